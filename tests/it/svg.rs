//! A reader for the SVG charts surge writes, so that chart tests assert what a chart shows (its
//! titles, axis labels, series names and the values drawn) rather than the size of its file.
//!
//! It reads only what plotters' SVG backend writes (one element per line group: `<text>` with
//! its content on the following lines, `<polyline points=...>`, `<circle .../>`), in document
//! order. It is not a general SVG or XML parser: it is written by hand because no dependency of
//! the project parses XML, and these tests need only the attributes above.

use std::path::Path;

/// One drawn element, with the attributes the tests read.
#[derive(Debug, Clone)]
pub(crate) enum Element {
    Text {
        x: f64,
        y: f64,
        anchor: String,
        content: String,
    },
    Line {
        stroke: String,
        points: Vec<(f64, f64)>,
    },
    Circle {
        cx: f64,
        cy: f64,
        r: f64,
        fill: String,
    },
    /// A filled rectangle (a bar), its left edge at `x`.
    Rect {
        x: f64,
        y: f64,
        width: f64,
        fill: String,
    },
}

/// A chart read back from its SVG file: its elements in the order they were drawn.
pub(crate) struct Chart {
    pub elements: Vec<Element>,
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

fn num(tag: &str, name: &str) -> f64 {
    attr(tag, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

impl Chart {
    pub(crate) fn read(path: &Path) -> Chart {
        let svg =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut elements = Vec::new();
        let mut rest = svg.as_str();
        while let Some(open) = rest.find('<') {
            rest = &rest[open..];
            let close = rest.find('>').expect("a closed tag");
            let tag = &rest[..=close];
            rest = &rest[close + 1..];
            if tag.starts_with("<text ") {
                let end = rest.find("</text>").expect("a closed text");
                elements.push(Element::Text {
                    x: num(tag, "x"),
                    y: num(tag, "y"),
                    anchor: attr(tag, "text-anchor").unwrap_or("").to_string(),
                    content: unescape(rest[..end].trim()),
                });
                rest = &rest[end..];
            } else if tag.starts_with("<polyline ") {
                let points = attr(tag, "points")
                    .unwrap_or("")
                    .split_whitespace()
                    .filter_map(|p| {
                        let (x, y) = p.split_once(',')?;
                        Some((x.parse().ok()?, y.parse().ok()?))
                    })
                    .collect();
                let stroke = attr(tag, "stroke").unwrap_or("").to_string();
                elements.push(Element::Line { stroke, points });
            } else if tag.starts_with("<rect ") {
                elements.push(Element::Rect {
                    x: num(tag, "x"),
                    y: num(tag, "y"),
                    width: num(tag, "width"),
                    fill: attr(tag, "fill").unwrap_or("").to_string(),
                });
            } else if tag.starts_with("<circle ") {
                elements.push(Element::Circle {
                    cx: num(tag, "cx"),
                    cy: num(tag, "cy"),
                    r: num(tag, "r"),
                    fill: attr(tag, "fill").unwrap_or("").to_string(),
                });
            }
        }
        Chart { elements }
    }

    /// Every text drawn, in order.
    pub(crate) fn texts(&self) -> Vec<&str> {
        self.elements
            .iter()
            .filter_map(|e| match e {
                Element::Text { content, .. } => Some(content.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Fails naming what is missing unless every one of `wanted` is drawn as a text.
    pub(crate) fn assert_shows(&self, wanted: &[&str]) {
        let texts = self.texts();
        for w in wanted {
            assert!(
                texts.contains(w),
                "the chart does not show {w:?}: {texts:?}"
            );
        }
    }

    /// The elements from the text `title` up to the next text in `ends` (or the end): one panel.
    pub(crate) fn panel(&self, title: &str, ends: &[&str]) -> Panel<'_> {
        let is_text = |e: &Element, among: &[&str]| matches!(e, Element::Text { content, .. } if among.contains(&content.as_str()));
        let start = self
            .elements
            .iter()
            .position(|e| is_text(e, &[title]))
            .unwrap_or_else(|| panic!("no panel titled {title:?}: {:?}", self.texts()));
        let len = self.elements[start + 1..]
            .iter()
            .position(|e| is_text(e, ends))
            .map_or(self.elements.len() - start, |n| n + 1);
        Panel(&self.elements[start..start + len])
    }
}

/// The elements of one panel of a chart.
pub(crate) struct Panel<'a>(pub &'a [Element]);

impl Panel<'_> {
    fn ticks(&self, anchor: &str) -> Vec<(f64, f64, &str)> {
        self.0
            .iter()
            .filter_map(|e| match e {
                Element::Text {
                    x,
                    y,
                    anchor: a,
                    content,
                } if a == anchor => Some((*x, *y, content.as_str())),
                _ => None,
            })
            .collect()
    }

    /// The labels of the x axis's ticks (texts centred under the plot), left to right.
    pub(crate) fn x_labels(&self) -> Vec<(f64, &str)> {
        self.ticks("middle")
            .into_iter()
            .map(|(x, _, t)| (x, t))
            .collect()
    }

    /// The map from a pixel row to a value, from the y axis's numeric tick labels (texts
    /// right-aligned left of the plot): value = a + b * y, from its lowest and highest tick.
    pub(crate) fn y_scale(&self) -> impl Fn(f64) -> f64 + use<> {
        let ticks: Vec<(f64, f64)> = self
            .ticks("end")
            .into_iter()
            .filter_map(|(_, y, t)| Some((y, parse_tick(t)?)))
            .collect();
        assert!(ticks.len() >= 2, "a y axis needs two numeric ticks");
        let (lo, hi) = (ticks[0], ticks[ticks.len() - 1]);
        let b = (hi.1 - lo.1) / (hi.0 - lo.0);
        move |y| lo.1 + b * (y - lo.0)
    }

    /// The map from a pixel column to a value, from the x axis's numeric tick labels.
    pub(crate) fn x_scale<P: Fn(&str) -> Option<f64>>(
        &self,
        parse: P,
    ) -> impl Fn(f64) -> f64 + use<P> {
        let ticks: Vec<(f64, f64)> = self
            .x_labels()
            .into_iter()
            .filter_map(|(x, t)| Some((x, parse(t)?)))
            .collect();
        assert!(ticks.len() >= 2, "an x axis needs two numeric ticks");
        let (lo, hi) = (ticks[0], ticks[ticks.len() - 1]);
        let b = (hi.1 - lo.1) / (hi.0 - lo.0);
        move |x| lo.1 + b * (x - lo.0)
    }

    /// The points of every line drawn in `stroke`, joined in drawing order.
    pub(crate) fn line(&self, stroke: &str) -> Vec<(f64, f64)> {
        self.0
            .iter()
            .filter_map(|e| match e {
                Element::Line { stroke: s, points } if s == stroke => Some(points.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The bars (filled rectangles), top to bottom: (left edge, right edge, fill).
    pub(crate) fn bars(&self) -> Vec<(f64, f64, &str)> {
        let mut bars: Vec<(f64, f64, f64, &str)> = self
            .0
            .iter()
            .filter_map(|e| match e {
                Element::Rect { x, y, width, fill } if fill != "none" => {
                    Some((*y, *x, x + width, fill.as_str()))
                }
                _ => None,
            })
            .collect();
        bars.sort_by(|a, b| a.0.total_cmp(&b.0));
        bars.into_iter().map(|(_, a, b, f)| (a, b, f)).collect()
    }

    /// The centres of the markers filled with `fill` and of radius `r`.
    pub(crate) fn markers(&self, fill: &str, r: f64) -> Vec<(f64, f64)> {
        self.0
            .iter()
            .filter_map(|e| match e {
                Element::Circle {
                    cx,
                    cy,
                    r: rr,
                    fill: f,
                } if f == fill && *rr == r => Some((*cx, *cy)),
                _ => None,
            })
            .collect()
    }
}

/// A tick label as a number: `50`, `0.25`, `-50`, `100k`, `2M`.
pub(crate) fn parse_tick(t: &str) -> Option<f64> {
    let (digits, scale) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1e3),
        'M' => (&t[..t.len() - 1], 1e6),
        _ => (t, 1.0),
    };
    digits.parse::<f64>().ok().map(|v| v * scale)
}

/// A time-axis tick label as seconds: `0`, `5m`, `1h`, `1h30m`, `30s`.
pub(crate) fn parse_elapsed(t: &str) -> Option<f64> {
    if t == "0" {
        return Some(0.0);
    }
    let mut total = 0.0;
    let mut digits = String::new();
    for c in t.chars() {
        match c {
            '0'..='9' | '.' => digits.push(c),
            'h' | 'm' | 's' => {
                let unit = match c {
                    'h' => 3600.0,
                    'm' => 60.0,
                    _ => 1.0,
                };
                total += digits.parse::<f64>().ok()? * unit;
                digits.clear();
            }
            _ => return None,
        }
    }
    digits.is_empty().then_some(total)
}
