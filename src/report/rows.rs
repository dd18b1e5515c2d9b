//! A row of a run's key-metrics table as its parts declare it: the label, where its figure is
//! in the summary's means and half-widths (`pick!`), how it is written and what it measures;
//! and `rows!`, the one way the tables declare their rows, one a line. Not the table itself
//! (`run_table`) nor which rows the levels have (`levels`).

use crate::metrics::means::{SummaryCi, SummaryMeans};

pub(super) type Fmt = fn(f64) -> String;

/// A figure of the summary's means, and of its half-widths.
pub(super) type Pick = Box<dyn Fn(&SummaryMeans) -> Option<f64>>;
pub(super) type PickCi = Box<dyn Fn(&SummaryCi) -> Option<f64>>;

/// A row of the key-metrics table: its label, where its figure is, how it is written and what
/// it measures.
pub(super) struct Row {
    pub(super) label: String,
    pub(super) mean: Pick,
    pub(super) ci: PickCi,
    pub(super) f: Fmt,
    pub(super) meaning: String,
    /// The downtime by requests: a lower bound where a run was still down at the end.
    pub(super) downtime: bool,
}

/// The means and half-widths of a field, the same path in both trees: `pick!(slo.success_rate)`,
/// under an optional part, `pick!(sessions? lost)`, or of the `i`th of a list of parts,
/// `pick!(tiers[i] utilization)`.
macro_rules! pick {
    ($opt:ident ? $($f:ident).+) => {
        (
            Box::new(|m: &$crate::metrics::means::SummaryMeans| {
                m.$opt.as_ref().and_then(|x| x.$($f).+)
            }) as $crate::report::rows::Pick,
            Box::new(|c: &$crate::metrics::means::SummaryCi| {
                c.$opt.as_ref().and_then(|x| x.$($f).+)
            }) as $crate::report::rows::PickCi,
        )
    };
    ($list:ident [$i:expr] $f:ident) => {
        (
            Box::new(move |m: &$crate::metrics::means::SummaryMeans| {
                m.$list.get($i).and_then(|x| x.$f)
            }) as $crate::report::rows::Pick,
            Box::new(move |c: &$crate::metrics::means::SummaryCi| {
                c.$list.get($i).and_then(|x| x.$f)
            }) as $crate::report::rows::PickCi,
        )
    };
    ($($f:ident).+) => {
        (
            Box::new(|m: &$crate::metrics::means::SummaryMeans| m.$($f).+)
                as $crate::report::rows::Pick,
            Box::new(|c: &$crate::metrics::means::SummaryCi| c.$($f).+)
                as $crate::report::rows::PickCi,
        )
    };
}
pub(super) use pick;

/// Rows of the key-metrics table, one a line: `label, figure (pick!), format, meaning;`.
macro_rules! rows {
    ($($label:expr, $figure:expr, $f:expr, $meaning:expr;)+) => {
        vec![$($crate::report::rows::row(&$label, $figure, $f, &$meaning)),+]
    };
}
pub(super) use rows;

/// A row from its label, figure, format and meaning.
pub(super) fn row(label: &str, (mean, ci): (Pick, PickCi), f: Fmt, meaning: &str) -> Row {
    Row {
        label: label.to_string(),
        mean,
        ci,
        f,
        meaning: meaning.to_string(),
        downtime: false,
    }
}
