//! The pools alone, against exact results: who leaves (a uniform pick over classes, the users
//! kept one by one and the count) and when (the rate size / mean at every instant, through the
//! bound's rises and falls).

use super::*;
use crate::engine::rng::stream;

const MEAN_S: f64 = 2.0;

fn pool(seed: u64, kind: PoolKind) -> Pool {
    let d = Dist::Exponential { mean: MEAN_S };
    Pool::for_dist(Some(&d), stream(seed, 9), 3, kind)
}

fn reader(pages_left: u32, pass: u32) -> User {
    User {
        source: 3,
        pages_left,
        failures: 0,
        refreshing: false,
        pass,
    }
}

/// Drive `p` alone up to `until`, adding one member (from `newcomer`) every `every` seconds
/// after the start; the departures, in order, with their times, and the times of the additions.
fn run(
    p: &mut Pool,
    until: f64,
    every: f64,
    newcomer: impl Fn() -> User,
) -> (Vec<(Time, Option<User>)>, Vec<f64>) {
    let kind = PoolKind::Thinking;
    let mut cal = Calendar::new();
    let mut gone = Vec::new();
    let mut next_in = every;
    let mut added = Vec::new();
    p.grew(Time::ZERO, &mut cal, kind);
    loop {
        let due = cal.peek_time().unwrap_or(Time::MAX);
        if next_in <= until && Time::from_secs(next_in) < due {
            p.insert(newcomer());
            p.grew(Time::from_secs(next_in), &mut cal, kind);
            added.push(next_in);
            next_in += every;
            continue;
        }
        if due > Time::from_secs(until) {
            return (gone, added);
        }
        let (now, _) = cal.pop().expect("a pending candidate");
        if p.fires() {
            gone.push((now, p.leave()));
        }
        p.next_candidate(now, &mut cal, kind);
    }
}

#[test]
fn the_first_to_leave_is_a_uniform_pick_over_every_kind_of_member() {
    // 600 readers with 1 page left and 300 with 40 (counted by class), 100 with a place in a
    // waiting room (kept one by one), 50 with 500 pages left (past the classes), 150 returning
    // (a count): the first departure's kind has these shares exactly.
    let shares = [600.0, 300.0, 100.0, 50.0, 150.0].map(|n| n / 1200.0);
    let reps = 12_000;
    let mut seen = [0u32; 5];
    for seed in 0..reps {
        let mut p = pool(seed, PoolKind::Thinking);
        for i in 0..600 {
            p.insert(reader(1, NONE));
            if i < 300 {
                p.insert(reader(40, NONE));
            }
            if i < 100 {
                p.insert(reader(1, i));
            }
            if i < 50 {
                p.insert(reader(500, NONE));
            }
        }
        p.count = 150;
        let (gone, _) = run(&mut p, 1e9, f64::INFINITY, || reader(1, NONE));
        let first = gone[0].1;
        seen[match first {
            Some(u) if u.pass != NONE => 2,
            Some(u) if u.pages_left == 1 => 0,
            Some(u) if u.pages_left == 40 => 1,
            Some(u) => {
                assert_eq!(u.pages_left, 500);
                3
            }
            None => 4,
        }] += 1;
        // Everyone leaves once, as they came.
        assert_eq!(gone.len(), 1200);
        assert_eq!(p.size(), 0);
        let readers = |k: u32| {
            gone.iter()
                .filter(move |g| g.1.is_some_and(|u| u.pages_left == k))
        };
        assert_eq!(readers(40).count(), 300);
        assert!(readers(1).all(|g| g.1.unwrap().failures == 0 && !g.1.unwrap().refreshing));
    }
    for (k, (&n, &q)) in seen.iter().zip(&shares).enumerate() {
        let expected = q * reps as f64;
        let z = (f64::from(n) - expected) / (expected * (1.0 - q)).sqrt();
        assert!(
            z.abs() < 4.0,
            "kind {k}: {n} first departures, expected {expected:.0}"
        );
    }
}

/// Members left at `t` in a pool that starts with `n0` and gains one every `every` seconds,
/// mean over `reps` seeds, against E[N(t)] = n0 e^(-t/m) + the sum over the additions at t_k of
/// e^(-(t - t_k)/m) (each member is still there with that probability), with a variance at
/// most that of a Poisson count.
fn check_level(n0: u32, every: f64, t: f64, reps: u64) {
    let (mut sum, mut expected) = (0.0, 0.0);
    for seed in 0..reps {
        let mut p = pool(seed + 1000, PoolKind::Thinking);
        for _ in 0..n0 {
            p.insert(reader(3, NONE));
        }
        let (gone, added) = run(&mut p, t, every, || reader(3, NONE));
        assert_eq!(p.size() as usize, n0 as usize + added.len() - gone.len());
        sum += p.size() as f64;
        let stay = |since: f64| (-(t - since) / MEAN_S).exp();
        expected = f64::from(n0) * stay(0.0) + added.iter().map(|&at| stay(at)).sum::<f64>();
    }
    let mean = sum / reps as f64;
    let z = (mean - expected) / (expected / reps as f64).sqrt();
    assert!(
        z.abs() < 4.0,
        "{n0} members, one more every {every} s: {mean:.1} left at {t} s, expected {expected:.1}"
    );
}

#[test]
fn members_leave_at_the_rate_size_over_mean_as_the_pool_shrinks() {
    // 20,000 members and few newcomers: the bound falls as the pool empties.
    check_level(20_000, 0.01, 3.0, 40);
}

#[test]
fn members_leave_at_the_rate_size_over_mean_as_the_pool_grows() {
    // From empty to about 2,000: the bound rises with the pool.
    check_level(0, 0.001, 2.5, 40);
}

#[test]
fn a_small_pool_leaves_at_its_rate_too() {
    // A handful of members: no slack, the bound follows the size.
    check_level(5, 0.2, 4.0, 3000);
}

#[test]
fn few_candidates_are_thrown_away() {
    let mut p = pool(7, PoolKind::Thinking);
    for _ in 0..100_000 {
        p.insert(reader(2, NONE));
    }
    let mut cal = Calendar::new();
    p.grew(Time::ZERO, &mut cal, PoolKind::Thinking);
    let (mut candidates, mut departures) = (0, 0);
    while departures < 50_000 {
        let (now, _) = cal.pop().expect("a pending candidate");
        candidates += 1;
        if p.fires() {
            departures += 1;
            p.leave();
        }
        p.next_candidate(now, &mut cal, PoolKind::Thinking);
    }
    let wasted = f64::from(candidates - departures) / f64::from(candidates);
    assert!(wasted < 0.01, "{wasted:.4} of the candidates thrown away");
}
