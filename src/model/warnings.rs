//! What a valid model may not mean: keys that are accepted but do nothing for the source they
//! reach, and an SLO that the horizon cannot confirm. Each is a sentence `surge check` prints
//! and `surge run` says on stderr; none stops a run. Not here: errors (`error`), which do.

use super::{Model, SourceKind};
use crate::fmt::human_duration;

/// The warnings of `model`, one sentence each.
pub(crate) fn warnings(model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    let sc = &model.scenario;
    let surge = &model.surge;
    let stable = model.slo.stable_s;
    let measured = sc.duration_s - sc.warmup_s;
    // The load starts to fall when the surge's peak ends: a site that recovers then (during the
    // decay, as the 2016 site did) is confirmed if `stable` fits before the horizon.
    let peak_end = surge.breakpoints()[2];
    if stable > measured {
        out.push(format!(
            "slo.stable ({}) is longer than the measured horizon ({}): no recovery can be \
             confirmed, so an outage that ends is reported as over, its recovery not confirmed",
            human_duration(stable),
            human_duration(measured)
        ));
    } else if surge.peak != 1.0 && peak_end < sc.duration_s && stable > sc.duration_s - peak_end {
        out.push(format!(
            "slo.stable ({}) is longer than the {} the horizon leaves after the surge's peak \
             (it ends at {}): a recovery once the load falls cannot be confirmed; lengthen \
             scenario.duration or shorten slo.stable",
            human_duration(stable),
            human_duration(sc.duration_s - peak_end),
            human_duration(peak_end)
        ));
    }
    // The model's `[client.retry]` reaches every source, but a users source drops it (its own
    // `[source.client.retry]` is an error).
    let retry = model.client_retry;
    for s in &model.sources {
        if s.kind == SourceKind::Users && retry {
            out.push(format!(
                "[client.retry] does nothing for the users source {}: users repeat a failed \
                 page by refreshing (client.refresh, refresh_after, give_up_after); retries \
                 apply to requests and trace sources",
                s.name
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn model(extra: &str) -> Model {
        let text = format!(
            "[scenario]\nduration = \"3h\"\n[[source]]\nname = \"visitors\"\nkind = \"users\"\n\
             users = 10\npages = {{ dist = \"geometric\", mean = 2 }}\n\
             think = {{ dist = \"exponential\", mean = \"5s\" }}\n\
             [[tier]]\ninstances = 1\nthreads = 4\n\
             service = {{ dist = \"exponential\", mean = \"10ms\" }}\n{extra}"
        );
        crate::model::parse_text(&text, "m.toml", Path::new(".")).unwrap()
    }

    #[test]
    fn a_stable_longer_than_what_follows_the_surge_is_warned() {
        // The peak ends at 2 h 30 min: 30 min left, against 1 h of slo.stable.
        let m = model("[surge]\npeak = 4\nstart = \"1h\"\nhold = \"1h30m\"\ndecay = \"5m\"\n");
        let w = warnings(&m);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains(
                "slo.stable (1 h 0 min) is longer than the 30 min the horizon leaves \
                 after the surge's peak (it ends at 2 h 30 min)"
            ),
            "{w:?}"
        );
        // 20 minutes of slo.stable fit.
        let m = model(
            "[surge]\npeak = 4\nstart = \"1h\"\nhold = \"1h30m\"\ndecay = \"5m\"\n\
             [slo]\nstable = \"20m\"\n",
        );
        assert!(warnings(&m).is_empty());
        // The surge ends 30 min before the horizon but its peak 1 h before: a recovery as the
        // load falls (the 2016 night's) can be confirmed, so no warning.
        let m = model("[surge]\npeak = 4\nstart = \"1h\"\nhold = \"1h\"\ndecay = \"30m\"\n");
        assert!(warnings(&m).is_empty(), "{:?}", warnings(&m));
        // Longer than the horizon itself.
        let m = model("[slo]\nstable = \"4h\"\n");
        assert!(warnings(&m)[0].contains("longer than the measured horizon (3 h 0 min)"));
    }

    #[test]
    fn retries_on_a_users_source_are_warned() {
        let m = model("[client.retry]\nmax_attempts = 3\n");
        let w = warnings(&m);
        assert!(
            w.iter()
                .any(|w| w.contains("[client.retry] does nothing for the users source visitors")),
            "{w:?}"
        );
    }
}
