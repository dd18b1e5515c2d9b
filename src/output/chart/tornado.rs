//! The tornado chart of `surge sensitivity`: one column per metric, one row per key (most
//! influential first, as ranked), each bar as long as the key's mu* on that metric (the mean
//! size of its elementary effects over its whole range, scaled to the metric's largest) and
//! pointing right when raising the key raises the metric on average (mu > 0), left when it
//! lowers it; grey when its effects go both ways (|mu| < mu* / 2), the colours explained in a
//! legend in words of the key's low and high values. Under each bar, mu* and sigma (the spread
//! of the effects), their unit under the column's heading; every text cut to fit its column.
//!
//! Not here: the screening (`experiment::sensitivity`), the files (`output::sensitivity`).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::parts::{draw_title, fit_text, text_size};
use super::theme::*;
use super::{Figure, write_figure};
use crate::experiment::sensitivity::{Effect, Outcome, SensitivityDoc};

/// Width of the column of key names and ranges.
const KEYS_W: u32 = 330;
const ROW_H: u32 = 64;
/// Height of the metrics' headings (label, unit and level on two lines).
const HEAD_H: u32 = 84;
/// Height of the notes and the legend under the rows (six lines).
const FOOT_H: u32 = 164;
/// Height of one line of the notes.
const LINE_H: i32 = 24;
/// Bars of effects of both signs.
const MIXED: RGBColor = RGBColor(160, 160, 160);
/// The legend of the bars' colours, in the words of a key's low and high values.
const LEGEND: [(RGBColor, &str); 3] = [
    (
        super::theme::BLUE,
        "from the key's low value to its high value the metric goes up, on average (mu > 0): bar to the right",
    ),
    (
        ORANGE,
        "from the key's low value to its high value the metric goes down, on average (mu < 0): bar to the left",
    ),
    (
        MIXED,
        "from low to high the metric goes up at some points and down at others (|mu| < mu*/2)",
    ),
];

struct Tornado<'a> {
    doc: &'a SensitivityDoc,
}

/// Draw the tornado chart of `doc` to `png` and `svg`.
pub(crate) fn draw_tornado(
    doc: &SensitivityDoc,
    png: &std::path::Path,
    svg: &std::path::Path,
) -> Result<()> {
    write_figure(&Tornado { doc }, png, svg)
}

impl Figure for Tornado<'_> {
    fn size(&self) -> (u32, u32) {
        let rows = self.doc.ranking.len().max(1) as u32;
        (FIG_W, TITLE_H + HEAD_H + rows * ROW_H + FOOT_H + BOTTOM_PAD)
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let doc = self.doc;
        root.fill(&WHITE)?;
        let title = format!("{}: which keys move the outcome most", doc.model);
        let cut = if doc.budget_reached {
            format!(
                "; budget reached: {} of {} trajectories finished",
                doc.trajectories_done, doc.trajectories
            )
        } else {
            String::new()
        };
        // Under the rows, where it always fits (beside a long title it would not).
        let note = format!(
            "Morris screening: {} x {} keys, {} per point, {} runs on common random numbers{cut}",
            doc.trajectories_words(),
            doc.factors.len().max(doc.ranking.len()),
            doc.reps_words(),
            doc.runs
        );
        draw_title(root, &title, None, FIG_W - 20)?;
        let left = Pos::new(HPos::Left, VPos::Center);
        let top = TITLE_H as i32;
        let n = doc.outcomes.len().max(1) as u32;
        let col_w = (FIG_W - KEYS_W - 20) / n;
        root.draw(&Text::new(
            "key (range screened)",
            (16, top + HEAD_H as i32 / 2),
            style(DESC_SIZE, &TEXT_DIM).pos(left),
        ))?;
        for (r, k) in doc.ranking.iter().enumerate() {
            let y = top + (HEAD_H + r as u32 * ROW_H) as i32;
            if r % 2 == 0 {
                root.draw(&Rectangle::new(
                    [(8, y), (FIG_W as i32 - 8, y + ROW_H as i32)],
                    RGBColor(247, 247, 247).filled(),
                ))?;
            }
            let name_w = |s: &str| text_size(root, s, TICK_SIZE).0;
            let name = fit_text(
                &format!("{}. {}", k.rank, k.factor.key),
                KEYS_W - 24,
                &name_w,
            );
            root.draw(&Text::new(
                name,
                (16, y + 22),
                style(TICK_SIZE, &TEXT).pos(left),
            ))?;
            root.draw(&Text::new(
                fit_text(&k.factor.range_words(), KEYS_W - 42, &|s: &str| {
                    text_size(root, s, NOTE_SIZE).0
                }),
                (34, y + 44),
                style(NOTE_SIZE, &TEXT_DIM).pos(left),
            ))?;
        }
        for (m, o) in doc.outcomes.iter().enumerate() {
            let x0 = (KEYS_W + m as u32 * col_w) as i32;
            let effects: Vec<&Effect> = doc.ranking.iter().map(|k| &k.metrics[m]).collect();
            column(root, (x0, col_w as i32), o, &effects)?;
        }
        let foot = top + (HEAD_H + doc.ranking.len().max(1) as u32 * ROW_H) as i32 + 8;
        let dim = style(NOTE_SIZE, &TEXT_DIM).pos(left);
        let fit = |s: &str, x: i32| {
            fit_text(s, FIG_W - x as u32 - 16, &|t: &str| {
                text_size(root, t, NOTE_SIZE).0
            })
        };
        root.draw(&Text::new(
            fit(note.as_str(), 16),
            (16, foot + 12),
            style(NOTE_SIZE, &TEXT).pos(left),
        ))?;
        // The legend: what each colour says of going from the key's low value to its high one.
        for (i, (colour, words)) in LEGEND.iter().enumerate() {
            let y = foot + 12 + LINE_H * (i as i32 + 1);
            root.draw(&Rectangle::new([(16, y - 7), (40, y + 7)], colour.filled()))?;
            root.draw(&Text::new(fit(words, 50), (50, y), dim.clone()))?;
        }
        for (i, line) in [
            "bar length: mu*, the mean size of the key's elementary effects, each scaled to the key's whole range; under it, mu* and sigma",
            "sigma: the spread of the effects (interactions, non-linearity); each column's unit is under its heading",
        ]
        .iter()
        .enumerate()
        {
            let y = foot + 12 + LINE_H * (i as i32 + 1 + LEGEND.len() as i32);
            root.draw(&Text::new(fit(line, 16), (16, y), dim.clone()))?;
        }
        Ok(())
    }
}

/// One metric's column from `x0`, `w` wide: its heading, the zero line and one bar per key.
fn column<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x0, w): (i32, i32),
    o: &Outcome,
    effects: &[&Effect],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let top = TITLE_H as i32;
    let centre = Pos::new(HPos::Center, VPos::Center);
    let mid = x0 + w / 2;
    let head_w = |s: &str| text_size(root, s, NOTE_SIZE + 1.0).0;
    let mut lines = wrap(&o.label, w as u32 - 12, &head_w);
    lines.truncate(2);
    let units = format!("{}, {} level", o.unit_words(), o.level);
    let first = top + if lines.len() == 1 { 30 } else { 16 };
    for (i, line) in lines.iter().chain([&units]).enumerate() {
        let dim = i == lines.len();
        root.draw(&Text::new(
            fit_text(line, w as u32 - 12, &head_w),
            (mid, first + 22 * i as i32),
            style(NOTE_SIZE + 1.0, if dim { &TEXT_DIM } else { &TEXT }).pos(centre),
        ))?;
    }
    let biggest = effects.iter().filter_map(|e| e.mu_star).fold(0.0, f64::max);
    let y_top = top + HEAD_H as i32;
    let half = w / 2 - 14;
    for (r, e) in effects.iter().enumerate() {
        let y = y_top + r as i32 * ROW_H as i32;
        root.draw(&PathElement::new(
            vec![(mid, y + 6), (mid, y + 36)],
            AXIS.stroke_width(1),
        ))?;
        let words = match e.mu_star {
            None => "no value".to_string(),
            Some(0.0) => "0 in this design".to_string(),
            // The unit is under the column's heading: the numbers alone, so that they fit.
            Some(v) => match e.sigma {
                Some(sd) => format!("{}  (σ {})", o.figure(v), o.figure(sd)),
                None => o.figure(v),
            },
        };
        let cell_w = |t: &str| text_size(root, t, NOTE_SIZE).0;
        root.draw(&Text::new(
            fit_text(&words, w as u32 - 12, &cell_w),
            (mid, y + 50),
            style(NOTE_SIZE, &TEXT).pos(centre),
        ))?;
        let Some(size) = e.mu_star.filter(|v| *v > 0.0) else {
            continue;
        };
        let len = (f64::from(half) * size / biggest).round().max(2.0) as i32;
        let mu = e.mu.unwrap_or(0.0);
        let colour = if mu.abs() < size / 2.0 {
            MIXED
        } else if mu > 0.0 {
            super::theme::BLUE
        } else {
            ORANGE
        };
        let (a, b) = if mu >= 0.0 {
            (mid, mid + len)
        } else {
            (mid - len, mid)
        };
        root.draw(&Rectangle::new([(a, y + 10), (b, y + 32)], colour.filled()))?;
    }
    Ok(())
}

/// `text` cut into lines of at most `max_w` pixels at word boundaries.
fn wrap(text: &str, max_w: u32, width: &dyn Fn(&str) -> u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(last) if width(&format!("{last} {word}")) <= max_w => {
                last.push(' ');
                last.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use crate::experiment::sensitivity::*;

    #[test]
    fn a_tornado_of_three_keys_and_three_metrics() {
        let outcome = |key: &str, label: &str, unit: &str, level: &str| Outcome {
            key: key.into(),
            label: label.into(),
            unit: unit.into(),
            level: level.into(),
        };
        let effect = |mu_star: f64, mu: f64| Effect {
            mu_star: Some(mu_star),
            mu: Some(mu),
            sigma: Some(mu_star / 3.0),
            effects: 10,
        };
        // A key's rank, name and (mu*, mu) per outcome.
        let key = |rank: u32, k: &str, ms: &[(f64, f64)]| KeyEffects {
            rank,
            factor: Factor {
                key: k.into(),
                lo: 4.0,
                hi: 12.0,
                whole: true,
                range: "4..12".into(),
                unit: if k.ends_with("hour") {
                    "currency units per instance-hour".into()
                } else {
                    k.rsplit('.').next().unwrap().into()
                },
            },
            score: 1.0,
            metrics: ms.iter().map(|&(star, mu)| effect(star, mu)).collect(),
            runs: 60,
        };
        let doc = SensitivityDoc {
            surge_version: "0".into(),
            model: "api".into(),
            method: METHOD.into(),
            reference: REFERENCE.into(),
            seed: 1,
            seeds: "common".into(),
            levels: 4,
            trajectories: 10,
            trajectories_done: 10,
            budget_reached: false,
            reps: 3,
            runs: 120,
            overrides: vec![],
            factors: vec![],
            outcomes: vec![
                outcome("outage.downtime_s", "downtime", "s", "attempt"),
                outcome(
                    "calls.success_rate",
                    "share of calls that succeeded",
                    "",
                    "call",
                ),
                outcome(
                    "latency_s.p95",
                    "p95 latency of successful attempts",
                    "s",
                    "attempt",
                ),
                outcome("cost", "cost of the priced tiers", "currency units", "site"),
            ],
            ranking: vec![
                key(
                    1,
                    "tier.web.instances",
                    &[
                        (900.0, -900.0),
                        (0.4, 0.4),
                        (1.2, -1.1),
                        (0.123456, 0.123456),
                    ],
                ),
                key(
                    2,
                    "tier.web.threads",
                    &[(300.0, -100.0), (0.1, 0.08), (0.3, -0.3), (0.0, 0.0)],
                ),
                key(3, "tier.web.cost_per_instance_hour", &[(0.0, 0.0); 4]),
            ],
            points: vec![],
            steps: vec![],
        };
        // A plain chart (bars and text): smaller than the plots `samples::draw_sample` expects.
        let dir = tempfile::tempdir().unwrap();
        let (png, svg) = (dir.path().join("t.png"), dir.path().join("t.svg"));
        super::draw_tornado(&doc, &png, &svg).unwrap();
        crate::output::chart::samples::keep_sample(&png, &svg, "tornado");
        assert!(crate::output::chart::samples::size_of(&png) > 20_000);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        let svg = std::fs::read_to_string(&svg).unwrap();
        assert!(svg.contains("tier.web.instances"));
        // A duration's effects are written as times (15 min), and its heading says so.
        assert!(svg.contains("time (h, min, s, ms), attempt level"));
        assert!(svg.contains("percentage points, call level"));
        assert!(svg.contains("15 min"), "900 s of downtime in minutes");
        assert!(svg.contains("0 in this design"));
        assert!(
            svg.contains("4 to 12 instances"),
            "the range in the key's unit"
        );
        assert!(svg.contains("4 to 12 threads"));
        fits_with_a_legend(&svg);
    }

    /// Every text of the chart inside it, the cost's cell with its unit under the heading (the
    /// new-user trial's "0.123 currency units  (σ 0.0412 currency units)" ran off the right
    /// edge), and a legend of the colours in words of the key's low and high values.
    fn fits_with_a_legend(svg: &str) {
        assert!(svg.contains("currency units, site level"));
        assert!(svg.contains("0.123  (σ 0.0412)"), "{svg}");
        for (x, anchor, text) in texts(svg) {
            // About 0.55 of the font's size per character (a sans-serif's mean advance): the
            // text's extent from its anchor.
            let w = text.chars().count() as f64 * 16.0 * 0.55;
            let (l, r) = match anchor.as_str() {
                "middle" => (x - w / 2.0, x + w / 2.0),
                "end" => (x - w, x),
                _ => (x, x + w),
            };
            assert!(l >= 0.0 && r <= 1400.0, "{text:?} runs off: {l}..{r}");
        }
        // The legend of the colours, in words of the key's low and high values.
        assert!(svg.contains("low value to its high value the metric goes up"));
        assert!(svg.contains("low value to its high value the metric goes down"));
        assert!(svg.contains("goes up at some points and down at others"));
        for colour in ["#1F77B4", "#FF7F0E", "#A0A0A0"] {
            assert!(svg.to_uppercase().contains(colour), "a swatch of {colour}");
        }
    }

    /// Each `<text>` of `svg`: its x, its anchor and its content.
    fn texts(svg: &str) -> Vec<(f64, String, String)> {
        let attr = |tag: &str, name: &str| {
            let key = format!(" {name}=\"");
            let start = tag.find(&key)? + key.len();
            let end = tag[start..].find('"')? + start;
            Some(tag[start..end].to_string())
        };
        let mut out = Vec::new();
        let mut rest = svg;
        while let Some(open) = rest.find("<text ") {
            rest = &rest[open..];
            let close = rest.find('>').unwrap();
            let tag = &rest[..close];
            let end = rest.find("</text>").unwrap();
            let content = rest[close + 1..end].trim().replace("&amp;", "&");
            let x = attr(tag, "x").and_then(|v| v.parse().ok()).unwrap();
            out.push((x, attr(tag, "text-anchor").unwrap_or_default(), content));
            rest = &rest[end..];
        }
        out
    }
}
