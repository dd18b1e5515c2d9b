//! Sweep charts (stand-in until the real drawing lands).
use anyhow::Result;
use std::path::Path;

pub struct MetricSeries {
    pub label: String,
    pub unit: String,
    pub mean: Vec<f64>,
    pub ci95: Vec<f64>,
}
pub struct Axis {
    pub name: String,
    pub x: Vec<f64>,
    pub labels: Option<Vec<String>>,
}
pub struct CrashTry {
    pub value: f64,
    pub reps: u32,
    pub outages: u32,
}
pub fn draw_sweep(_t: &str, _a: &Axis, _m: &[MetricSeries], _p: &Path, _s: &Path) -> Result<()> {
    Ok(())
}
pub fn draw_heatmap(
    _t: &str,
    _x: &Axis,
    _y: &Axis,
    _z: &[Vec<f64>],
    _p: &Path,
    _s: &Path,
) -> Result<()> {
    Ok(())
}
#[allow(clippy::too_many_arguments)]
pub fn draw_crashpoint(
    _t: &str,
    _p: &str,
    _tries: &[CrashTry],
    _c: Option<f64>,
    _ci: Option<(f64, f64)>,
    _p10: Option<f64>,
    _p90: Option<f64>,
    _png: &Path,
    _svg: &Path,
) -> Result<()> {
    Ok(())
}
