//! The collector's levels against their definitions.

use super::*;

/// Changes settled at once give the areas, value and peak of the same changes one by one.
#[test]
fn a_level_settled_at_once_matches_one_change_at_a_time() {
    let changes = [
        (3, 1.0),
        (5, 1.0),
        (6, -1.0),
        (9, 1.0),
        (12, -1.0),
        (14, -1.0),
    ];
    let (start, end) = (Time(2_000_000_000), Time(20_000_000_000));
    let at = |s: u64| Time(s * 1_000_000_000);
    let mut one = Level::default();
    one.add(Time::ZERO, 4.0);
    one.add(start, 0.0);
    let mut all = one;
    one.start_counting(start);
    all.start_counting(start);
    for &(s, d) in &changes {
        one.add(at(s), d);
    }
    one.add(end, 0.0);
    let sum: f64 = changes.iter().map(|c| c.1).sum();
    let weighted: f64 = changes
        .iter()
        .map(|&(s, d)| d * end.nanos_since(at(s)))
        .sum();
    all.add_settled(end, sum, weighted, 6.0);
    assert_eq!(all.value, one.value);
    assert_eq!(all.peak, one.peak);
    assert_eq!(all.peak, 6.0);
    assert!(
        (all.mean(18.0) - one.mean(18.0)).abs() < 1e-12,
        "{all:?} {one:?}"
    );
}
