//! Tests of a closed population: the target's changes against the target sampled on a fine
//! grid, and a run whose population follows its target.

use super::*;
use crate::engine::Calendar;
use crate::model::Profile;
use crate::system::World;
use std::path::Path;

/// Every change of the target over [0, `horizon`), from `next_change`.
fn changes(t: &Target, horizon: f64) -> Vec<(f64, u64)> {
    let mut out = vec![(0.0, t.count(0.0))];
    let mut k = t.count(0.0);
    let mut at = 0.0;
    while let Some((next, to)) = t.next_change(at, k, horizon) {
        assert!(next > at || (next == at && to != k), "no progress at {at}");
        assert_ne!(to, k, "a change to the same target at {next}");
        out.push((next, to));
        (at, k) = (next, to);
    }
    out
}

/// The changes found match the target at every point of a fine grid (away from the changes
/// themselves, where rounding of the time decides), and move it by as much in all as the grid
/// sees it move: the number of users who join and leave.
fn check_against_grid(t: &Target, horizon: f64) -> u64 {
    let ch = changes(t, horizon);
    let moves: u64 = ch.windows(2).map(|w| w[0].1.abs_diff(w[1].1)).sum();
    let steps = 200_000;
    let (mut j, mut seen, mut last) = (0, 0, t.count(0.0));
    for i in 0..steps {
        let x = horizon * (i as f64 + 0.5) / steps as f64;
        seen += last.abs_diff(t.count(x));
        last = t.count(x);
        while j + 1 < ch.len() && ch[j + 1].0 <= x {
            j += 1;
        }
        let near = ch.iter().any(|c| (c.0 - x).abs() < 1e-6);
        if !near {
            assert_eq!(
                ch[j].1,
                t.count(x),
                "at {x}: changes {:?}",
                &ch[j.saturating_sub(2)..]
            );
        }
    }
    assert_eq!(moves, seen);
    moves
}

#[test]
fn target_changes_follow_ramps_steps_and_their_products() {
    // A profile that rises, jumps and falls, under a surge that ramps up and decays while the
    // profile moves: pieces where the target is linear, quadratic, flat, and jumps at cuts.
    let profile = Profile {
        points: vec![
            (0.0, 1.0),
            (300.0, 1.6),
            (400.0, 1.6),
            (400.0, 0.7),
            (900.0, 0.2),
            (1000.0, 1.3),
        ],
    };
    let surge = Surge {
        peak: 3.0,
        start_s: 200.0,
        ramp_s: 150.0,
        hold_s: 100.0,
        decay_s: 400.0,
    };
    let t = Target::new(37.0, &profile, &surge);
    let moves = check_against_grid(&t, 1200.0);
    // From 37 up to 178 (37 x 1.6 x 3) and down, up and down again: hundreds of users move.
    assert!(moves > 250, "{moves} users joined or left");
    // A flat target never changes; a step changes once, at the step.
    let flat = Target::new(10.0, &Profile::flat(), &surge_none());
    assert_eq!(changes(&flat, 1000.0), vec![(0.0, 10)]);
    let step = Profile {
        points: vec![(0.0, 1.0), (60.0, 1.0), (60.0, 2.0)],
    };
    let stepped = Target::new(10.0, &step, &surge_none());
    assert_eq!(changes(&stepped, 1000.0), vec![(0.0, 10), (60.0, 20)]);
}

#[test]
fn a_linear_ramp_changes_at_the_half_integers() {
    // 0 to 10 users over 100 s: the target is k from (k - 1/2) x 10 s on.
    let ramp = Profile {
        points: vec![(0.0, 0.0), (100.0, 1.0)],
    };
    let ch = changes(&Target::new(10.0, &ramp, &surge_none()), 1000.0);
    assert_eq!(ch.len(), 11);
    for (k, &(at, to)) in ch.iter().enumerate().skip(1) {
        assert_eq!(to, k as u64);
        assert!((at - (k as f64 - 0.5) * 10.0).abs() < 1e-9, "{k}: {at}");
    }
}

fn surge_none() -> Surge {
    Surge {
        peak: 1.0,
        start_s: 0.0,
        ramp_s: 0.0,
        hold_s: f64::INFINITY,
        decay_s: 0.0,
    }
}

/// A closed source whose target doubles at 10 min and halves at 20 min, with errors (a small
/// queue, refreshes, giving up) so that sessions end both ways.
fn doubling() -> crate::model::Model {
    let text = "[scenario]\nduration = \"30m\"\n[[source]]\nkind = \"users\"\n\
                population = \"closed\"\nusers = 50\n\
                profile = [[\"0s\", 1], [\"10m\", 1], [\"10m\", 2], [\"20m\", 2], [\"20m\", 1]]\n\
                pages = { dist = \"geometric\", mean = 3 }\n\
                think = { dist = \"exponential\", mean = \"2s\" }\n\
                [source.client]\nrefresh = 0.5\ngive_up_after = 2\n\
                [[tier]]\nname = \"web\"\ninstances = 1\nthreads = 4\nqueue = 2\n\
                service = { dist = \"exponential\", mean = \"100ms\" }\n";
    crate::model::parse_text(text, "closed.toml", Path::new(".")).unwrap()
}

#[test]
fn the_population_is_held_at_its_target_and_users_are_conserved() {
    let m = doubling();
    let mut w = World::new(&m, 3);
    let mut cal = Calendar::new();
    w.start(&mut cal);
    let mut seen = [false; 3];
    while let Some((now, ev)) = cal.pop() {
        // A bucket's end comes before the other events at its instant (it closes the bucket
        // before): the end at 600 s still sees the old target.
        let closes = matches!(ev, crate::system::Event::Bucket);
        w.handle(now, ev, &mut cal);
        let c = w.sources[0].closed.as_ref().unwrap();
        let t = if closes {
            now.secs() - 1e-9
        } else {
            now.secs()
        };
        // Every user is counted once: present = reading + refreshing + in flight.
        let s = &w.sources[0];
        let in_flight = (w.users.len() - w.free_users.len()) as u64;
        let pooled = s.thinking.size() + s.refreshing.size();
        assert_eq!(c.present, pooled + in_flight, "at {t}");
        assert_eq!(w.metrics.users.value, c.present as f64);
        assert!(c.present >= c.target);
        // Held at the target, but for the users leaving after the fall (a few think times).
        let target = if t < 600.0 {
            50
        } else if t < 1200.0 {
            100
        } else {
            50
        };
        assert_eq!(c.target, target, "at {t}");
        if !(1200.0..1230.0).contains(&t) {
            assert_eq!(c.present, target, "at {t}");
        }
        seen[((t / 600.0) as usize).min(2)] = true;
        if w.finished() {
            break;
        }
    }
    assert_eq!(seen, [true; 3]);
    // Errors happened, so sessions ended by giving up as well as by reading every page.
    assert!(
        w.metrics.totals.attempts.rejected > 100,
        "{:?}",
        w.metrics.totals
    );
}
