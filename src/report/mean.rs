//! How a report writes a mean over replications: the value with its 95% interval where the
//! interval says something, "all 3 alike" where every replication gave the same value (a
//! half-width of zero is no interval), "at least" where some value in the mean was cut by the
//! horizon (a downtime still running at the end), and "not recovered in k of n" for a recovery
//! time, never a number for runs that did not recover. Formatting only: the means come from the
//! result files.

/// A mean over replications, as read from a result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Mean {
    /// NaN when no replication has a value.
    pub mean: f64,
    /// Half-width of the 95% interval; NaN when there is none (fewer than two values).
    pub half: f64,
    /// Replications whose value is in the mean.
    pub values: u32,
    /// Of those, the ones whose value is only a lower bound (still down at the end).
    pub censored: u32,
}

impl Mean {
    /// A mean of complete values.
    pub(crate) fn of(mean: f64, half: f64, values: u32) -> Mean {
        Mean {
            mean,
            half,
            values,
            censored: 0,
        }
    }

    /// The same mean, `censored` of its values being lower bounds.
    pub(crate) fn censored(self, censored: u32) -> Mean {
        Mean { censored, ..self }
    }

    fn exists(&self) -> bool {
        self.mean.is_finite()
    }

    /// The value: "14 min", "at least 14 min (2 of 3 still down at the end)", "-" for none.
    pub(crate) fn value(&self, f: &dyn Fn(f64) -> String) -> String {
        if !self.exists() {
            return "-".into();
        }
        match (self.censored, self.values) {
            (0, _) => f(self.mean),
            (_, 0 | 1) => format!("at least {} (still down at the end)", f(self.mean)),
            (c, n) => format!(
                "at least {} ({c} of {n} still down at the end)",
                f(self.mean)
            ),
        }
    }

    /// "± 3 ms": the half-width of the 95% interval where there is a positive one around a mean
    /// of complete values; `None` otherwise.
    pub(crate) fn interval(&self, f: &dyn Fn(f64) -> String) -> Option<String> {
        (self.exists() && self.censored == 0 && self.half.is_finite() && self.half > 0.0)
            .then(|| format!("± {}", f(self.half)))
    }

    /// Every replication gave the same value (two or more of them, all complete).
    pub(crate) fn alike(&self) -> bool {
        self.exists() && self.censored == 0 && self.half == 0.0 && self.values >= 2
    }

    /// Value and interval in one: "302 ms ± 3 ms", "0 ms (all 3 alike)", "at least 14 min (3 of
    /// 3 still down at the end)".
    pub(crate) fn text(&self, f: &dyn Fn(f64) -> String) -> String {
        self.text_with(f, f)
    }

    /// As [`Mean::text`], the half-width written by `half` (a clock time's spread is a
    /// duration).
    pub(crate) fn text_with(
        &self,
        f: &dyn Fn(f64) -> String,
        half: &dyn Fn(f64) -> String,
    ) -> String {
        let v = self.value(f);
        match self.interval(half) {
            Some(h) => format!("{v} {h}"),
            None if self.alike() => format!("{v} (all {} alike)", self.values),
            None => v,
        }
    }
}

/// A recovery time: the mean over the replications that recovered (`recovered`, whose `values`
/// counts them), and "not recovered in k of n" for the others, never a number for those.
/// "-" when no replication had an outage.
pub(crate) fn recovery(
    recovered: Mean,
    not_recovered: u32,
    runs: u32,
    f: &dyn Fn(f64) -> String,
) -> String {
    let stuck = format!("not recovered in {not_recovered} of {runs}");
    match (not_recovered, recovered.exists() && recovered.values > 0) {
        (0, _) => recovered.text(f),
        (_, false) => stuck,
        (_, true) => format!(
            "{} over the {} that recovered; {stuck}",
            recovered.text(f),
            recovered.values
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmt::human_duration;

    #[test]
    fn an_interval_only_where_it_says_something() {
        let f = &human_duration;
        assert_eq!(Mean::of(0.302, 0.003, 3).text(f), "302 ms ± 3 ms");
        assert_eq!(Mean::of(0.0, 0.0, 3).text(f), "0 ms (all 3 alike)");
        assert_eq!(Mean::of(840.0, f64::NAN, 1).text(f), "14 min");
        assert_eq!(Mean::of(f64::NAN, f64::NAN, 0).text(f), "-");
        assert!(!Mean::of(840.0, 0.0, 3).text(f).contains('±'));
    }

    #[test]
    fn a_mean_of_lower_bounds_says_at_least_and_how_many() {
        let f = &human_duration;
        let all = Mean::of(840.0, 0.0, 3).censored(3);
        assert_eq!(
            all.text(f),
            "at least 14 min (3 of 3 still down at the end)"
        );
        let some = Mean::of(35_520.0, 600.0, 3).censored(2);
        assert_eq!(
            some.text(f),
            "at least 9 h 52 min (2 of 3 still down at the end)"
        );
        assert_eq!(
            Mean::of(840.0, f64::NAN, 1).censored(1).text(f),
            "at least 14 min (still down at the end)"
        );
    }

    #[test]
    fn runs_that_did_not_recover_have_no_recovery_time() {
        let f = &human_duration;
        let none = Mean::of(f64::NAN, f64::NAN, 0);
        assert_eq!(recovery(none, 3, 3, f), "not recovered in 3 of 3");
        let two = Mean::of(600.0, 120.0, 2);
        assert_eq!(
            recovery(two, 1, 3, f),
            "10 min ± 2 min over the 2 that recovered; not recovered in 1 of 3"
        );
        assert_eq!(
            recovery(Mean::of(600.0, 0.0, 3), 0, 3, f),
            "10 min (all 3 alike)"
        );
        assert_eq!(recovery(none, 0, 3, f), "-");
    }
}
