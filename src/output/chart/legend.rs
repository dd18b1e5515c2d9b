//! The legend of a chart: what an entry shows (`Glyph`: a line, a whisker, a marker, a band,
//! a swatch...), its text with an optional dim second line, and the column of entries drawn
//! beside a plot. It is not where the plot's own lines and markers are drawn (`parts`), nor
//! what each chart puts in its legend (the chart's own file).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::parts::{fit_text, text_size};
use super::theme::*;

/// How a legend's line is drawn.
#[derive(Clone, Copy)]
pub(super) enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// What a legend entry shows.
pub(super) enum Glyph {
    /// Line with a marker on it.
    LineMarker(RGBColor),
    /// Vertical whisker with caps.
    Whisker(RGBColor),
    Line(RGBColor, u32, Dash),
    /// Filled box with a border.
    Band(RGBAColor, RGBColor),
    Marker(RGBColor, i32),
    /// The triangle of a lower bound.
    LowerBound(RGBColor),
    Swatch(RGBColor),
    /// The heatmap's crash boundary: a thick dark line with a white halo.
    Boundary,
}

pub(super) struct Entry {
    pub(super) glyph: Glyph,
    pub(super) text: String,
    /// A second, dim line under the text.
    pub(super) sub: Option<String>,
}

pub(super) fn entry(glyph: Glyph, text: &str, sub: Option<String>) -> Entry {
    Entry {
        glyph,
        text: text.to_string(),
        sub,
    }
}

/// Draws the entries in a column from `top` (pixels in `area`); returns the y below the last.
pub(super) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    top: i32,
) -> Result<i32>
where
    DB::ErrorType: 'static,
{
    let (gx0, gx1) = (8, 44);
    let gm = (gx0 + gx1) / 2;
    let (area_w, _) = area.dim_in_pixel();
    let max_w = area_w.saturating_sub(gx1 as u32 + 16);
    let mut cy = top;
    for e in entries {
        match e.glyph {
            Glyph::LineMarker(c) => {
                area.draw(&PathElement::new(
                    vec![(gx0, cy), (gx1, cy)],
                    c.stroke_width(2),
                ))?;
                area.draw(&Circle::new((gm, cy), 7, WHITE.filled()))?;
                area.draw(&Circle::new((gm, cy), 5, c.filled()))?;
            }
            Glyph::Whisker(c) => {
                let s = c.stroke_width(2);
                area.draw(&PathElement::new(vec![(gm, cy - 11), (gm, cy + 11)], s))?;
                area.draw(&PathElement::new(
                    vec![(gm - CAP, cy - 11), (gm + CAP, cy - 11)],
                    s,
                ))?;
                area.draw(&PathElement::new(
                    vec![(gm - CAP, cy + 11), (gm + CAP, cy + 11)],
                    s,
                ))?;
            }
            Glyph::Line(c, w, dash) => {
                let pts = vec![(gx0, cy), (gx1, cy)];
                match dash {
                    Dash::Solid => area.draw(&PathElement::new(pts, c.stroke_width(w)))?,
                    Dash::Dashed => {
                        area.draw(&DashedPathElement::new(pts, 8, 5, c.stroke_width(w)))?
                    }
                    Dash::Dotted => {
                        area.draw(&DashedPathElement::new(pts, 3, 4, c.stroke_width(w)))?
                    }
                }
            }
            Glyph::Band(fill, border) => {
                let corners = [(gx0, cy - 9), (gx1, cy + 9)];
                area.draw(&Rectangle::new(corners, fill.filled()))?;
                area.draw(&Rectangle::new(corners, border.stroke_width(1)))?;
            }
            Glyph::Marker(c, r) => {
                area.draw(&Circle::new((gm, cy), r + 2, WHITE.filled()))?;
                area.draw(&Circle::new((gm, cy), r, c.filled()))?;
            }
            Glyph::LowerBound(c) => {
                area.draw(&TriangleMarker::new((gm, cy), 10, WHITE.filled()))?;
                area.draw(&TriangleMarker::new((gm, cy), 7, c.filled()))?;
            }
            Glyph::Swatch(c) => {
                let corners = [(gx0 + 6, cy - 10), (gx1 - 6, cy + 10)];
                area.draw(&Rectangle::new(corners, c.filled()))?;
                area.draw(&Rectangle::new(corners, AXIS.stroke_width(1)))?;
            }
            Glyph::Boundary => {
                let pts = vec![(gx0, cy), (gx1, cy)];
                area.draw(&PathElement::new(pts.clone(), WHITE.stroke_width(9)))?;
                area.draw(&PathElement::new(pts, BOUNDARY.stroke_width(5)))?;
            }
        }
        let w = |s: &str| text_size(area, s, LEGEND_SIZE).0;
        area.draw(&Text::new(
            fit_text(&e.text, max_w, &w),
            (gx1 + 10, cy),
            style(LEGEND_SIZE, &TEXT).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        if let Some(sub) = &e.sub {
            cy += 22;
            let w = |s: &str| text_size(area, s, NOTE_SIZE).0;
            area.draw(&Text::new(
                fit_text(sub, max_w, &w),
                (gx1 + 10, cy),
                style(NOTE_SIZE, &TEXT_DIM).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        cy += 34;
    }
    Ok(cy)
}
