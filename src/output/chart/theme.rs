//! The look shared by every chart: the embedded font, text sizes, colours and the sizes of the
//! bands around the plots. A figure's own colours (a heatmap's scale, a line of one chart only)
//! stay in its file.

use plotters::prelude::*;
use std::sync::OnceLock;

/// Font family name the embedded font is registered under (plotters' default family).
const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded DejaVu Sans with plotters under the family `sans-serif`. Idempotent and
/// thread-safe; the draw functions call it themselves.
pub(crate) fn register_embedded_font() {
    font_registered();
}

/// Registers the font once and says whether that worked.
pub(super) fn font_registered() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok())
}

/// Text in the chart font.
pub(super) fn style<'a>(size: f64, color: &'a RGBColor) -> TextStyle<'a> {
    TextStyle::from((FONT, size).into_font()).color(color)
}

pub(super) const TITLE_SIZE: f64 = 28.0;
pub(super) const PANEL_TITLE_SIZE: f64 = 22.0;
pub(super) const TICK_SIZE: f64 = 17.0;
pub(super) const DESC_SIZE: f64 = 18.0;
pub(super) const LEGEND_SIZE: f64 = 18.0;
pub(super) const NOTE_SIZE: f64 = 16.0;

pub(super) const TEXT: RGBColor = RGBColor(30, 30, 30);
pub(super) const TEXT_DIM: RGBColor = RGBColor(90, 90, 90);
pub(super) const GRID: RGBColor = RGBColor(225, 225, 225);
pub(super) const AXIS: RGBColor = RGBColor(120, 120, 120);
pub(super) const BLUE: RGBColor = RGBColor(31, 119, 180);
pub(super) const BROWN: RGBColor = RGBColor(140, 86, 75);
pub(super) const GREY: RGBColor = RGBColor(127, 127, 127);
pub(super) const GREEN: RGBColor = RGBColor(44, 160, 44);
pub(super) const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub(super) const PURPLE: RGBColor = RGBColor(148, 103, 189);
pub(super) const RED: RGBColor = RGBColor(214, 39, 40);
pub(super) const TEAL: RGBColor = RGBColor(23, 150, 165);
/// The heatmap's crash boundary (and its legend glyph).
pub(super) const BOUNDARY: RGBColor = RGBColor(20, 20, 45);
/// Outages, crash points and what a mean leaves out.
pub(super) const CRASH: RGBColor = RGBColor(178, 24, 43);

/// Width of the sweep, heatmap and crash-point charts; height of the last two.
pub(super) const FIG_W: u32 = 1400;
pub(super) const FIG_H: u32 = 960;
/// Height of the band holding the chart title.
pub(super) const TITLE_H: u32 = 64;
pub(super) const BOTTOM_PAD: u32 = 12;
/// Width of the legend column to the right of every panel.
pub(super) const LEGEND_W: u32 = 250;
/// Legend column (and colour bar) of the heatmap and crash-point charts.
pub(super) const WIDE_LEGEND_W: u32 = 300;
/// Room for the y tick labels and the y axis description, the same in every panel so that the
/// plots line up on a shared x axis.
pub(super) const Y_LABEL_AREA: u32 = 104;
pub(super) const X_LABEL_AREA: u32 = 34;
/// Horizontal centre of the (rotated) y axis description, pixels from the panel's left edge.
pub(super) const Y_DESC_X: i32 = 18;
/// Extra room under the bottom panel for the x axis description.
pub(super) const X_DESC_EXTRA: u32 = 34;
pub(super) const PANEL_TITLE_H: u32 = 32;
pub(super) const PLOT_MARGIN_TOP: u32 = 4;
pub(super) const PLOT_MARGIN_RIGHT: u32 = 18;
/// Half-width of the whisker caps, pixels.
pub(super) const CAP: i32 = 7;

/// Marker radius for a try with `reps` replications (area grows with the replications).
pub(super) fn marker_radius(reps: u32) -> i32 {
    (3.0 + 1.4 * f64::from(reps).sqrt())
        .clamp(5.0, 15.0)
        .round() as i32
}
