//! The report of a result: one self-contained `report.html` (inline CSS and SVG charts, no script,
//! nothing fetched from the network, a print stylesheet for A4 and Letter, readable on a phone)
//! and one `report.md` (GitHub-flavoured Markdown, charts referenced as the PNG files beside it),
//! written into a command's output folder.
//!
//! A [`Report`] is typed data: the answer in sentences, the checks (`--assert`), then sections of
//! tables, charts, the model as run and its provenance. The builders read a finished output folder
//! (`run`, `sweep`, `crashpoint`) or take the typed result (`fit`), so `surge plot` rebuilds a
//! report from the data files as it redraws the charts. This module renders and writes; it
//! simulates nothing and prints nothing.

pub(crate) mod assert;
pub(crate) mod compare;
pub(crate) mod crashpoint;
pub(crate) mod fit;
pub(crate) mod html;
mod levels;
pub(crate) mod markdown;
pub(crate) mod mean;
mod rows;
pub(crate) mod run;
mod run_table;
pub(crate) mod sensitivity;
pub(crate) mod simulated;
pub(crate) mod story;
pub(crate) mod sweep;

use anyhow::Result;
use std::path::Path;

use crate::store::provenance::Provenance;

/// A report: what `report.html` and `report.md` show, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Report {
    /// The page title, e.g. "ircc-2016: surge run".
    pub title: String,
    /// One line under the title: which command on which model.
    pub subtitle: String,
    /// The answer, in sentences, at the top.
    pub answer: Vec<String>,
    /// The `--assert` checks, passed or failed, under the answer.
    pub checks: Vec<assert::Outcome>,
    pub sections: Vec<Section>,
}

/// A titled part of a report.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Section {
    pub heading: String,
    pub blocks: Vec<Block>,
}

/// One element of a section.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    /// A paragraph of plain text.
    Text(String),
    Table(Table),
    Chart(Chart),
    /// Text shown as it is (the model's TOML).
    Code {
        language: String,
        text: String,
    },
    /// Name and value pairs (provenance).
    Facts(Vec<(String, String)>),
}

/// A table: every cell already written for people (units and intervals in the text).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Table {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// What a mark in the table means, under it.
    pub note: Option<String>,
}

/// A chart: its SVG inline in HTML, its PNG (relative to the report) in Markdown.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chart {
    pub caption: String,
    /// The `<svg>` element, ready to inline (see [`inline_svg`]).
    pub svg: String,
    /// The PNG file beside the report, e.g. `timeline.png` or `run/timeline.png`.
    pub png: String,
}

impl Chart {
    /// The chart `<stem>.svg` / `<stem>.png` in `dir`, if its SVG is there.
    pub(crate) fn from_dir(dir: &Path, stem: &str, caption: &str) -> Option<Chart> {
        let text = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).ok()?;
        Some(Chart {
            caption: caption.to_string(),
            svg: inline_svg(&text, caption),
            png: format!("{stem}.png"),
        })
    }
}

impl Report {
    /// The report of a part of a larger report, its files in the subfolder `sub`: chart paths
    /// are prefixed with it.
    pub(crate) fn nested(mut self, sub: &str) -> Report {
        for s in &mut self.sections {
            for b in &mut s.blocks {
                if let Block::Chart(c) = b {
                    c.png = format!("{sub}/{}", c.png);
                }
            }
        }
        self
    }
}

/// An SVG file as an element to inline in HTML: no XML declaration or doctype, and the root's
/// fixed width and height dropped (its `viewBox` kept) so that it scales to the page; labelled
/// for screen readers.
pub(crate) fn inline_svg(text: &str, label: &str) -> String {
    let start = text.find("<svg").unwrap_or(0);
    let body = &text[start..];
    let Some(end) = body.find('>') else {
        return String::new();
    };
    let (root, rest) = body.split_at(end);
    let mut attrs: Vec<String> = Vec::new();
    let mut has_viewbox = false;
    let (mut width, mut height) = (None, None);
    for (name, value) in attributes(root.trim_start_matches("<svg")) {
        match name.as_str() {
            "width" => width = Some(value),
            "height" => height = Some(value),
            _ => {
                has_viewbox |= name == "viewBox";
                attrs.push(format!("{name}=\"{value}\""));
            }
        }
    }
    if !has_viewbox && let (Some(w), Some(h)) = (&width, &height) {
        attrs.push(format!("viewBox=\"0 0 {w} {h}\""));
    }
    format!(
        "<svg {} role=\"img\" aria-label=\"{}\"{}",
        attrs.join(" "),
        html::escape(label),
        rest.trim_end()
    )
}

/// The `name="value"` pairs of a start tag's attribute text.
fn attributes(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim().trim_end_matches('/');
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().to_string();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().unwrap_or('"');
        let Some(close) = after[1..].find(quote) else {
            break;
        };
        out.push((name, after[1..1 + close].to_string()));
        rest = after[close + 2..].trim_start();
    }
    out
}

/// The provenance of a result as name and value pairs.
pub(crate) fn provenance_facts(p: &Provenance, seed: Option<u64>) -> Vec<(String, String)> {
    let mut f = vec![
        ("surge version".to_string(), p.surge_version.clone()),
        (
            "model hash".to_string(),
            format!("{} (FNV-1a of the model after --set)", p.model_hash),
        ),
    ];
    if let Some(s) = seed {
        f.push(("seed".to_string(), s.to_string()));
    }
    f.push((
        "overrides (--set)".to_string(),
        if p.overrides.is_empty() {
            "none".to_string()
        } else {
            p.overrides.join(" ")
        },
    ));
    f.push(("command line".to_string(), command_line(&p.command_line)));
    f
}

/// A command line as a shell would take it back: arguments with spaces or quotes quoted.
pub(crate) fn command_line(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sections every report ends with: the model as run and where the result came from.
pub(crate) fn model_and_provenance(
    model_text: Option<&str>,
    provenance: Option<&Provenance>,
    seed: Option<u64>,
) -> Vec<Section> {
    let mut out = Vec::new();
    out.push(Section {
        heading: "Model as run".to_string(),
        blocks: vec![match model_text {
            Some(t) => Block::Code {
                language: "toml".to_string(),
                text: t.to_string(),
            },
            None => Block::Text(
                "The model text is not in this folder; the model hash below identifies it."
                    .to_string(),
            ),
        }],
    });
    if let Some(p) = provenance {
        out.push(Section {
            heading: "Provenance".to_string(),
            blocks: vec![Block::Facts(provenance_facts(p, seed))],
        });
    }
    out
}

/// Write `report.html` and `report.md` into `dir`, each atomically.
pub(crate) fn write(dir: &Path, report: &Report) -> Result<()> {
    crate::store::atomic::write_atomic(&dir.join("report.html"), html::render(report).as_bytes())?;
    crate::store::atomic::write_atomic(&dir.join("report.md"), markdown::render(report).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_svg_file_becomes_a_scalable_labelled_element() {
        let file = "<?xml version=\"1.0\"?>\n<svg width=\"800\" height=\"600\" viewBox=\"0 0 800 600\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect x=\"0\"/>\n</svg>\n";
        let s = inline_svg(file, "a <chart>");
        assert!(s.starts_with("<svg viewBox=\"0 0 800 600\""), "{s}");
        assert!(!s.contains("width=\"800\""), "{s}");
        assert!(s.contains("aria-label=\"a &lt;chart&gt;\""), "{s}");
        assert!(s.ends_with("</svg>"), "{s}");
        assert!(!s.contains("<?xml"));
        // No viewBox: made from the size.
        let s = inline_svg("<svg width=\"10\" height=\"20\"></svg>", "x");
        assert!(s.contains("viewBox=\"0 0 10 20\""), "{s}");
    }

    #[test]
    fn command_lines_quote_what_a_shell_would_split() {
        let a = [
            "surge",
            "run",
            "--set",
            "scenario.name=a b",
            "--assert",
            "x>=1",
        ];
        let args: Vec<String> = a.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            command_line(&args),
            "surge run --set 'scenario.name=a b' --assert 'x>=1'"
        );
    }
}
