//! The pools that hold users waiting out an exponential delay (think time, refresh) leave them
//! at the right rate: with room to spare, the users on the site obey Little's law exactly (the
//! session rate times the session length), which a pool whose departures ran slow or fast
//! (a wrong carry-over of the pending departure when the pool changes size) would break.

use crate::common::run_model;

fn model(users: u32) -> String {
    format!(
        r#"
[scenario]
duration = "3h"
bucket = "5m"
seed = 11
[[source]]
kind = "users"
users = {users}
pages = {{ dist = "geometric", mean = 4 }}
think = {{ dist = "exponential", mean = "5s" }}
[[tier]]
name = "web"
instances = 1
threads = 2000
service = {{ dist = "deterministic", value = "10ms" }}
"#
    )
}

#[test]
fn users_on_the_site_obey_littles_law() {
    for users in [40, 600] {
        let s = run_model(&model(users), &[]);
        let mean = s["mean_concurrent_users"].as_f64().unwrap();
        // The number of users is Poisson(users) at any time, correlated over a session (about
        // 20 s): over 3 h the time average has a standard deviation of at most 1.5% of 40 and
        // 0.4% of 600, so 6% and 2% are four standard deviations and more.
        let tol = if users == 40 { 0.06 } else { 0.02 };
        let err = (mean - f64::from(users)).abs() / f64::from(users);
        assert!(
            err < tol,
            "{users} users expected on the site, {mean:.1} measured ({:.1}%)",
            100.0 * err
        );
        // Pages at the rate the users read them: users / (think + response) per second.
        let offered = s["requests"]["offered"].as_f64().unwrap();
        let rate = offered / s["sim_time_s"].as_f64().unwrap();
        let expected = f64::from(users) / 5.01;
        assert!(
            (rate - expected).abs() / expected < tol,
            "{rate:.2} pages/s offered, {expected:.2} expected"
        );
    }
}
