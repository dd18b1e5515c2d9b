//! Tests of the outage story: both media over the same summaries, and `down_at_end`.

use super::*;

fn clock(t: f64) -> String {
    format!("t = {}", human_duration(t))
}

fn words() -> ReportWords {
    ReportWords {
        below: "50.0%".into(),
        window: "5 min".into(),
        stable_s: Some(120.0),
        lost: "LOST".into(),
    }
}

/// A 40-minute run down from 4 to 16 minutes and back at 18 (two minutes of `slo.stable`).
fn recovered() -> Summary {
    let mut s = Summary {
        sim_time_s: 2400.0,
        ..Summary::default()
    };
    s.slo.window_s = Some(300.0);
    let o = &mut s.outage;
    (o.crashed, o.crash_time_s, o.episodes) = (true, Some(240.0), 1);
    (o.intervals, o.downtime_s) = (vec![[240.0, 960.0]], 720.0);
    (o.recovered, o.recovered_at_s, o.recovery_time_s) = (Some(true), Some(1080.0), Some(840.0));
    s
}

/// The terminal's outage line at `level` for `runs`, on the built-in model.
fn terminal_line(runs: &[&Summary], level: Level) -> String {
    let model = crate::model::load(None, &[]).unwrap();
    let span = Simulated::of(&model, runs);
    let terminal = Medium::Terminal {
        model: &model,
        span: &span,
        users_at: &|_, _| 0.0,
    };
    story(runs, level, &clock, &terminal)
}

#[test]
fn the_terminal_and_the_report_tell_one_recovery() {
    let run = recovered();
    let runs = [&run];
    let line = terminal_line(&runs, Level::Requests);
    assert!(
        line.starts_with(
            "outage by requests: down at t = 4 min; back within the SLO at t = 18 min, 14 min \
             after going down; 1 \
             outage episode, 12 min down in all; 0 requests lost ("
        ),
        "{line}"
    );
    let sentence = story(&runs, Level::Requests, &clock, &Medium::Report(words()));
    assert_eq!(
        sentence,
        "By requests: down at t = 4 min, back within the SLO at t = 18 min, 14 min after \
         going down; 1 outage \
         episode, 12 min down in all; LOST."
    );
}

/// Recovered, then down again in the last window: its downtime is cut by the horizon, and
/// it is neither "not confirmed" nor a count below zero.
#[test]
fn a_run_down_again_at_the_end_is_cut_not_unconfirmed() {
    let mut again = recovered();
    again.outage.intervals.push([2100.0, 2400.0]);
    again.outage.episodes = 2;
    let up = Summary {
        sim_time_s: 2400.0,
        ..Summary::default()
    };
    let sentence = story(
        &[&again, &up],
        Level::Requests,
        &clock,
        &Medium::Report(words()),
    );
    assert!(
        sentence.starts_with("By requests: down in 1 of 2 replications"),
        "{sentence}"
    );
    assert!(
        sentence.contains("not recovered in 1 of 1: still down at the end"),
        "{sentence}"
    );
    assert!(!sentence.contains("not confirmed"), "{sentence}");
}

/// A 20-minute run, 5-minute SLO windows over 1-minute buckets: an episode that reaches the
/// last window ends at 20 - 2.5 + 0.5 = 18 min; one that ended a window earlier, at 17 min.
#[test]
fn an_outage_that_reaches_the_last_window_is_still_on_at_the_end() {
    let run = |end_s: f64| {
        let mut s = Summary {
            sim_time_s: 1200.0,
            ..Summary::default()
        };
        s.slo.window_s = Some(300.0);
        s.outage.crashed = true;
        s.outage.intervals = vec![[240.0, end_s]];
        s
    };
    assert!(down_at_end(&run(1080.0)));
    assert!(!down_at_end(&run(1020.0)));
    // A partial run ends where it stopped.
    let mut partial = run(480.0);
    partial.simulated_until_s = Some(600.0);
    assert!(down_at_end(&partial));
    let mut up = run(1080.0);
    up.outage.crashed = false;
    up.outage.intervals.clear();
    assert!(!down_at_end(&up));
}

/// A run that broke its SLO for 22 minutes and lost 40% of its attempts without falling below
/// the outage line: both media say the SLO was broken, with the losses, before "no outage", and
/// neither says the site "stayed up" (issue 29).
#[test]
fn a_broken_slo_is_told_before_no_outage() {
    let mut run = Summary {
        sim_time_s: 2100.0,
        ..Summary::default()
    };
    (run.slo.broken, run.slo.time_out_of_slo_s) = (true, 1320.0);
    let a = &mut run.requests.attempts;
    (a.offered, a.succeeded, a.rejected, a.timed_out) = (1000, 600, 300, 100);
    (run.calls.made, run.calls.succeeded, run.calls.lost) = (800, 640, 160);
    let runs = [&run, &run];
    let sentence = story(&runs, Level::Requests, &clock, &Medium::Report(words()));
    assert_eq!(
        sentence,
        "By requests: the SLO was broken for 22 min; 40.0% of attempts and 20.0% of calls were \
         lost (means of 2 replications); no outage in all 2 replications: the success rate never \
         fell below the outage line of 50.0% over a 5 min window; LOST."
    );
    let one = story(
        &runs[..1],
        Level::Requests,
        &clock,
        &Medium::Report(words()),
    );
    assert!(
        one.starts_with(
            "By requests: the SLO was broken for 22 min; 40.0% of attempts and 20.0% of calls \
             were lost; no outage: "
        ),
        "{one}"
    );
    let line = terminal_line(&runs, Level::Requests);
    assert!(
        line.starts_with(
            "outage by requests: the SLO was broken for 22 min; 40.0% of attempts and 20.0% of \
             calls were lost (means of 2 replications); no outage in all 2 replications: the \
             success rate never fell below the outage line of "
        ),
        "{line}"
    );
    let calls = terminal_line(&runs, Level::Calls);
    assert!(
        calls.starts_with("outage by calls: no outage in all 2 replications"),
        "{calls}"
    );
    for s in [sentence, one, line, calls] {
        assert!(!s.contains("stayed up"), "{s}");
    }
}
