//! The divan suite, over the workloads of `surge::bench` at sizes that run in seconds
//! (`surge bench` runs the full sizes and prints the table with the targets):
//! `cargo bench --bench engine`.

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use surge::bench::{hold, mmck_model};
use surge::experiment::run_once;
use surge::experiment::sweep::run_points;

fn main() {
    divan::main();
}

/// The event set alone: pop the earliest of `pending` events, push it back at t + Exp(1).
#[divan::bench(args = [1_000, 100_000])]
fn hold_model(bencher: Bencher, pending: usize) {
    const OPS: u64 = 1_000_000;
    bencher
        .counter(ItemsCount::new(OPS))
        .bench(|| hold(black_box(pending), OPS, 1));
}

/// The M/M/c/K reference (l = 900/s, m = 10/s, c = 100, K = 1,000), 1 M arrivals; the counter
/// is arrivals.
#[divan::bench(sample_count = 10)]
fn mmck_reference(bencher: Bencher) {
    let model = mmck_model(1_000_000).expect("the reference model builds");
    bencher
        .counter(ItemsCount::new(1_000_000u64))
        .bench(|| run_once(black_box(&model), 1).summary.events);
}

/// The built-in IRCC model over its first two hours (before the surge): users, pools, two tiers.
#[divan::bench(sample_count = 5)]
fn ircc_two_hours(bencher: Bencher) {
    let model = surge::model::load(None, &["scenario.duration=2h".to_string()])
        .expect("the built-in model loads");
    bencher.bench(|| run_once(black_box(&model), 2016).summary.events);
}

/// A sweep of 8 runs of 200 k arrivals on 1 and on 2 threads: the speedup is the ratio.
#[divan::bench(args = [1, 2], sample_count = 5)]
fn sweep_of_8_runs(bencher: Bencher, jobs: usize) {
    let model = mmck_model(200_000).expect("the reference model builds");
    bencher.bench(|| {
        run_points(std::slice::from_ref(&model), 1, 8, jobs, &|| {})
            .expect("runs")
            .len()
    });
}
