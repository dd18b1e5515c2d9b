//! What a model leaves out, found once when a run starts, so that the request path skips the
//! checks of whole features rather than asking each tier and each source at every end: no
//! concurrency limiter or outlier detection in any tier (an attempt's end is reported to no
//! instance), no circuit breaker or throttle in any source (no client learns from an outcome),
//! no request timeout in any tier (no held thread's timeout to track). Each flag is only a
//! shortcut: with it off the same code runs as without it. Not here: the features themselves.

use crate::model::Model;

/// Which features of the request path the model uses.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shortcuts {
    /// Some tier has a concurrency limiter or outlier detection.
    pub(super) tier_policies: bool,
    /// Some source's clients have a circuit breaker or an adaptive throttle.
    pub(super) client_policies: bool,
    /// Some tier has a request timeout.
    pub(super) request_timeouts: bool,
    /// Some tier retries the tier it calls (`hop_retry`).
    pub(super) hop_retries: bool,
}

impl Shortcuts {
    pub(super) fn of(model: &Model) -> Shortcuts {
        let tiers = &model.tiers;
        Shortcuts {
            tier_policies: (tiers.iter())
                .any(|t| t.concurrency_limit.is_some() || t.outlier_detection.is_some()),
            client_policies: (model.sources.iter())
                .any(|s| s.client.breaker.is_some() || s.client.throttle.is_some()),
            request_timeouts: tiers.iter().any(|t| t.request_timeout_s.is_some()),
            hop_retries: tiers.iter().any(|t| t.retry.is_some()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::World;
    use std::path::Path;

    /// Every shortcut off: the full path for every feature, even those the model leaves out.
    fn full_path(w: &mut World) {
        w.shortcuts = Shortcuts {
            tier_policies: true,
            client_policies: true,
            request_timeouts: true,
            hop_retries: true,
        };
        for tier in &mut w.tiers {
            tier.plain_service = false;
            tier.crashes = true;
            tier.exponential_mean = None;
        }
    }

    /// Run `model` to its horizon: its totals, each tier's counts and times, and the series.
    fn run(
        model: &Model,
        seed: u64,
        shortcuts: bool,
    ) -> (String, crate::metrics::collector::Counts) {
        let mut w = World::new(model, seed);
        if !shortcuts {
            full_path(&mut w);
        }
        crate::system::run_to_end(&mut w);
        let m = &w.metrics;
        let tiers: Vec<String> = (m.tiers.iter())
            .map(|s| {
                format!(
                    "{} {} {} {} {} {} {}",
                    s.arrivals,
                    s.rejected,
                    s.served,
                    s.response_sum_s,
                    s.departure_time_s,
                    s.time_in_tier_s,
                    s.wait.len()
                )
            })
            .collect();
        let out = format!(
            "{:?} {tiers:?} {:?} {:?} wasted {}",
            m.totals, m.series.offered, m.users.value, w.wasted
        );
        (out, m.totals)
    }

    /// Models with none of the features the shortcuts skip (exponential and lognormal service,
    /// users who refresh and come back, calls that retry, patience, a queue): the runs must be
    /// the same, draw for draw, with the shortcuts and along the full path.
    #[test]
    fn shortcuts_change_nothing() {
        let text = "[scenario]\nduration = \"10m\"\nwarmup = \"1m\"\n\
            [[source]]\nkind = \"users\"\nusers = 400\n\
            pages = { dist = \"geometric\", mean = 4 }\n\
            think = { dist = \"exponential\", mean = \"5s\" }\n\
            [source.client]\nrefresh = 0.5\ngive_up_after = 3\n\
            return = { probability = 0.5, after = { dist = \"exponential\", mean = \"1m\" } }\n\
            [[source]]\nkind = \"requests\"\nrate = 60\n\
            [source.client]\npatience = { dist = \"exponential\", mean = \"200ms\" }\n\
            retry = { max_attempts = 3, backoff = \"fixed\", base = \"100ms\" }\n\
            [[tier]]\nname = \"web\"\ninstances = 2\nthreads = 8\nqueue = 20\n\
            service = { dist = \"exponential\", mean = \"60ms\" }\n\
            [[tier]]\nname = \"db\"\ninstances = 1\nthreads = 4\nvisit = 0.5\n\
            service = { dist = \"lognormal\", mean = \"30ms\", cv = 1.0 }\n";
        let model = crate::model::parse_text(text, "m.toml", Path::new(".")).unwrap();
        let s = Shortcuts::of(&model);
        assert!(!s.tier_policies && !s.client_policies && !s.request_timeouts);
        for seed in [1, 2, 3] {
            let fast = run(&model, seed, true);
            let full = run(&model, seed, false);
            assert_eq!(fast, full, "seed {seed}");
        }
        // The runs did something: requests were served, turned away and retried.
        let (_, totals) = run(&model, 1, true);
        assert!(totals.attempts.succeeded > 10_000, "{totals:?}");
        assert!(
            totals.attempts.rejected + totals.attempts.timed_out > 100,
            "{totals:?}"
        );
        assert!(totals.attempts.retries > 100, "{totals:?}");
    }

    #[test]
    fn each_feature_turns_its_shortcut_off() {
        let base = "[scenario]\nduration = \"1m\"\n[[source]]\nkind = \"requests\"\nrate = 5\n\
            [[tier]]\ninstances = 1\nthreads = 1\n\
            service = { dist = \"exponential\", mean = \"10ms\" }\n";
        let parse = |extra: &str| {
            let text = format!("{base}{extra}");
            Shortcuts::of(&crate::model::parse_text(&text, "m.toml", Path::new(".")).unwrap())
        };
        let none = parse("");
        assert!(!none.tier_policies && !none.client_policies && !none.request_timeouts);
        assert!(parse("request_timeout = \"1s\"\n").request_timeouts);
        assert!(parse("[tier.concurrency_limit]\nalgorithm = \"aimd\"\n").tier_policies);
        assert!(parse("[tier.outlier_detection]\n").tier_policies);
        assert!(parse("[client.breaker]\n").client_policies);
        assert!(parse("[client.throttle]\n").client_policies);
    }
}
