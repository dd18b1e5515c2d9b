//! Charts, for capacity planners: the timeline of a run ([`draw_timeline`]), a sweep over one
//! parameter ([`draw_sweep`]), a heatmap over two ([`draw_heatmap`]), a crash-point search
//! ([`draw_crashpoint`]), a comparison of variants ([`draw_compare`]) and how `surge fit`'s model
//! matches its data ([`draw_fit`]); one file per figure, on a shared look (`theme`), one axis type
//! (`scale`), shared pieces (`parts`: titles, whiskers, markers; `legend`) and the heatmap
//! boundary's geometry (`contour`).
//!
//! Each chart is written as a PNG and as an SVG of the same layout, each atomically
//! (`store::atomic::write_atomically`). The font (DejaVu Sans) is embedded in the binary and registered with
//! plotters under the family name `sans-serif` ([`register_embedded_font`]), so no system fonts
//! are needed at run time; SVG files name the family `sans-serif`. Odd data (empty vectors, NaN,
//! a single point, equal values, ragged lengths) draws a sparse or empty chart; it never panics.
//! Values in seconds are shown in minutes above 2 minutes and in hours above 2 hours, with the
//! unit in the axis description (`"recovery time (h)"`).

mod compare;
mod contour;
mod crashpoint;
mod fit;
mod heatmap;
mod labels;
mod legend;
mod panels;
mod pareto;
mod parts;
mod scale;
mod sweep;
mod theme;
mod timeline;
mod tornado;

use std::path::Path;

use anyhow::Result;

use crate::store::atomic::{write_atomic, write_atomically};
use plotters::coord::Shift;
use plotters::prelude::*;

pub(crate) use compare::{CompareChart, draw_compare};
pub(crate) use crashpoint::{CrashChart, CrashTry, Words as CrashWords, draw_crashpoint};
pub(crate) use fit::draw_fit;
pub(crate) use heatmap::draw_heatmap;
pub(crate) use pareto::{ParetoChart, ParetoPoint, draw_pareto};
pub(crate) use scale::clock_label;
pub(crate) use sweep::{Axis, MetricSeries, draw_sweep};
pub(crate) use theme::register_embedded_font;
pub(crate) use timeline::{InstanceCrash, Timeline, draw_timeline, first_crashes};
pub(crate) use tornado::draw_tornado;

/// A chart that can be drawn on any plotters backend.
pub(super) trait Figure {
    fn size(&self) -> (u32, u32);
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// Draws `fig` to `png` and to `svg`, each atomically.
pub(super) fn write_figure(fig: &impl Figure, png: &Path, svg: &Path) -> Result<()> {
    register_embedded_font();
    let size = fig.size();
    write_png(png, size, |root| fig.render(root))?;
    write_atomically(svg, |p| {
        let root = SVGBackend::new(p, size).into_drawing_area();
        fig.render(&root)?;
        root.present()?;
        Ok(())
    })?;
    Ok(())
}

/// Renders with `draw` on an RGB canvas of `size` and writes it to `path` as a PNG, atomically.
///
/// Encoded with the `png` crate at its fast setting (fdeflate, one filter for every row), not with
/// plotters' own file writer: that goes through the image crate's defaults (zlib level 6, a filter
/// chosen per row), which cost a 300 s run of bench/peers/mmck.toml about a sixth of all its
/// instructions for the one timeline chart. The files are somewhat larger; the pixels are the same.
pub(super) fn write_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<()> {
    let (w, h) = size;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(&root)?;
        root.present()?;
    }
    let mut bytes = Vec::with_capacity(rgb.len() / 8);
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    write_atomic(path, &bytes)
}

/// What the chart tests share.
#[cfg(test)]
mod samples {
    use std::path::{Path, PathBuf};

    pub(super) fn size_of(p: &Path) -> u64 {
        std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
    }

    /// Copies `png` (and the SVG next to it) to `$SURGE_SWEEP_SAMPLES/<name>.png` when set, to
    /// look at.
    pub(super) fn keep_sample(png: &Path, svg: &Path, name: &str) {
        if let Some(dir) = std::env::var_os("SURGE_SWEEP_SAMPLES") {
            let dir = PathBuf::from(dir);
            std::fs::copy(png, dir.join(format!("{name}.png"))).unwrap();
            std::fs::copy(svg, dir.join(format!("{name}.svg"))).unwrap();
        }
    }

    /// Draws a full-sized sample chart with `draw(png, svg)` in a temporary folder: both files
    /// must be full-sized (PNG over 30 kB, SVG over 20 kB) and nothing else left behind. Keeps
    /// it as `name` (`keep_sample`) and returns the SVG's text.
    pub(super) fn draw_sample(
        name: &str,
        draw: impl FnOnce(&Path, &Path) -> anyhow::Result<()>,
    ) -> String {
        let dir = tempfile::tempdir().unwrap();
        let (png, svg) = (
            dir.path().join(format!("{name}.png")),
            dir.path().join(format!("{name}.svg")),
        );
        draw(&png, &svg).unwrap();
        assert!(size_of(&png) > 30_000, "png is {} bytes", size_of(&png));
        assert!(size_of(&svg) > 20_000, "svg is {} bytes", size_of(&svg));
        // No temporary files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        keep_sample(&png, &svg, name);
        std::fs::read_to_string(&svg).unwrap()
    }
}
