//! `refused_after`: a request a full queue turns away reaches its client as a rejection that
//! long after (a proxy's connect timeout on a full listen backlog, which the reality check meets
//! in nginx in front of gunicorn: Linux drops the SYN, nginx answers 504 after
//! proxy_connect_timeout). Exact timings on a deterministic trace, a client timeout that rings
//! first, and the server's blocking left as Erlang B gives it.

use crate::common::{assert_exact, column, run_file, run_model};
use surge::analytic::erlang_b;

/// Two arrivals (0.5 s and 1.5 s) at one thread with no queue and a 5 s service: the second
/// is turned away at 1.5 s.
fn two_arrivals(tier_extra: &str, client: &str) -> (tempfile::TempDir, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("arrivals.csv"), "time\n0.5\n1.5\n").unwrap();
    let model = format!(
        "[scenario]\nduration = \"10s\"\nbucket = \"1s\"\n\n[[source]]\nkind = \"trace\"\n\
         file = \"arrivals.csv\"\n{client}\n[[tier]]\nname = \"app\"\ninstances = 1\nthreads = 1\n\
         queue = 0\nservice = {{ dist = \"deterministic\", value = \"5s\" }}\n{tier_extra}\n"
    );
    let file = dir.path().join("model.toml");
    std::fs::write(&file, model).unwrap();
    let s = run_file(&file, dir.path(), &[]);
    (dir, s)
}

fn bucket_of(dir: &tempfile::TempDir, name: &str) -> Vec<usize> {
    column(dir.path(), name)
        .iter()
        .enumerate()
        .flat_map(|(i, n)| std::iter::repeat_n(i, *n as usize))
        .collect()
}

#[test]
fn a_refusal_reaches_its_client_refused_after_later() {
    // Without the key the rejection is at once: in the bucket of its arrival, [1 s, 2 s).
    let (dir, s) = two_arrivals("", "");
    assert_eq!(s["requests"]["rejected"], 1);
    assert_eq!(bucket_of(&dir, "rejected"), vec![1]);
    assert_eq!(bucket_of(&dir, "succeeded"), vec![5]);
    // With it, 2.7 s later: at 4.2 s, in [4 s, 5 s); the server's own count is unchanged.
    let (dir, s) = two_arrivals("refused_after = \"2.7s\"", "");
    assert_eq!(s["requests"]["rejected"], 1);
    assert_eq!(s["requests"]["succeeded"], 1);
    assert_eq!(bucket_of(&dir, "rejected"), vec![4]);
    assert_eq!(bucket_of(&dir, "succeeded"), vec![5]);
    assert_eq!(s["tiers"][0]["blocking_probability"], 0.5);
}

#[test]
fn a_client_timeout_before_the_refusal_is_a_time_out() {
    // Timeout 3 s, refusal 4 s later: the second request times out at 4.5 s (not refused at
    // 5.5 s); the first times out at 3.5 s and is served anyway at 5.5 s (wasted).
    let (dir, s) = two_arrivals("refused_after = \"4s\"", "[client]\ntimeout = \"3s\"\n");
    assert_eq!(s["requests"]["rejected"], 0, "{}", s["requests"]);
    assert_eq!(s["requests"]["timed_out"], 2, "{}", s["requests"]);
    assert_eq!(s["requests"]["wasted"], 1, "{}", s["requests"]);
    assert_eq!(bucket_of(&dir, "timed_out"), vec![3, 4]);
}

#[test]
fn a_delayed_refusal_holds_no_place_erlang_b() {
    // M/M/5/5 offered 5 Erlangs: the refused wait at their clients, not in the server, so the
    // blocking probability is Erlang B's whatever the delay.
    let model = r#"
[scenario]
duration = "20m"
warmup = "1m"
seed = 11
[[source]]
kind = "requests"
rate = 10
[[tier]]
name = "app"
instances = 1
threads = 5
queue = 0
refused_after = "3s"
service = { dist = "exponential", mean = "500ms" }
"#;
    let s = run_model(model, &["--reps", "10"]);
    assert_exact(&s, "tiers.0.blocking_probability", erlang_b(5, 5.0));
}
