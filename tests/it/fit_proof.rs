//! `surge fit` where its round trip could read as proof but is not (issue 24, trial 24b): a
//! closed test at one concurrency fitted without the threads, whose round trip agrees by
//! construction; and an open log's 503s, which go to the queue and not to `errors` as well.

use crate::fit::{Truth, generated_log};
use crate::fit_common::{fit_model, fit_with_stdout};
use std::fmt::Write as _;

/// A JMeter CSV of `users` closed users for `span_s` seconds, all of them throughout: each
/// loops a request (50 to 149 ms) and a think time of exactly 0.5 s.
fn one_concurrency_jtl(users: u32, span_s: f64) -> String {
    let mut rows = Vec::new();
    for u in 0..users {
        let (mut t, mut k) = (1_700_000_000.0 + f64::from(u) * 0.05, u);
        while t < 1_700_000_000.0 + span_s {
            let elapsed = 50 + (k * 37) % 100;
            rows.push((t, elapsed, u));
            t += f64::from(elapsed) / 1000.0 + 0.5;
            k += 1;
        }
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut s = String::from(
        "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n",
    );
    for (t, elapsed, u) in rows {
        let _ = writeln!(
            s,
            "{},{elapsed},GET /x,200,OK,TG 1-{},text,true,,100,100,{users},{users},http://h/x,{elapsed},0,1",
            (t * 1000.0).round() as u64,
            u + 1
        );
    }
    s
}

#[test]
fn a_closed_test_at_one_concurrency_without_threads_agrees_by_construction_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let jtl = dir.path().join("flat.csv");
    std::fs::write(&jtl, one_concurrency_jtl(10, 120.0)).unwrap();
    let (j, stdout) = fit_with_stdout(&[&jtl], &[], &dir.path().join("bare"));
    let rt = &j["round_trip"];
    let why = rt["by_construction"].as_str().unwrap_or_default();
    assert!(
        why.starts_with(
            "the test ran at one concurrency (10 users throughout) and no --threads was given"
        ),
        "{rt}"
    );
    assert!(
        stdout.contains("they agree by construction, not as a check (see the WARNING)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("WARNING: the round trip proves nothing here: the test ran at one concurrency (10 users throughout)"),
        "{stdout}"
    );
    assert!(stdout.contains("the agreement checks nothing about capacity: give --threads N"));
    let report = std::fs::read_to_string(dir.path().join("bare/report.md")).unwrap();
    assert!(
        report.contains(
            "WARNING, they agree by construction and the agreement checks nothing about capacity"
        ),
        "{report}"
    );
    // with the threads given, the round trip checks them: no such warning
    let (j, stdout) = fit_with_stdout(&[&jtl], &["--threads", "10"], &dir.path().join("given"));
    assert!(
        j["round_trip"]["by_construction"].is_null(),
        "{}",
        j["round_trip"]
    );
    assert!(!stdout.contains("by construction"), "{stdout}");
}

#[test]
fn an_open_logs_refusals_go_to_the_queue_not_to_errors_without_threads() {
    let truth = Truth {
        rate: |_| 20.0,
        max_rate: 20.0,
        duration: 600.0,
        mean: 0.050,
        cv: 1.0,
        contention: 0.0,
        error_rate: 0.05,
        threads: 0,
        seed: 5,
    };
    let (dir, log, reqs) = generated_log(&truth);
    let failed = reqs.iter().filter(|r| !r.ok).count();
    assert!(failed > 100, "{failed}");
    let (j, model, _) = fit_model(&[&log], &[], &dir.path().join("out"));
    assert_eq!(j["capacity"]["from"], "assumption", "{}", j["capacity"]);
    assert_eq!(j["requests"]["refusals"]["turned_away"], failed as u64);
    // the 503s are the queue's evidence; `errors` does not fail them a second time
    assert!(model.contains("\nqueue = "), "{model}");
    assert!(!model.contains("\nerrors = "), "{model}");
    assert!(
        model.contains(&format!(
            "# {failed} failed requests are left out of the service fit; no `errors` below: all {failed} were turned away, and the queue makes them"
        )),
        "{model}"
    );
}
