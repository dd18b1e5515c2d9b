//! The grid of `surge optimize` as a lattice: each configuration's coordinates (the index of its
//! value on each varied key), which configuration dominates which (at least as much of every
//! monotone key, the same value of every other), what the runs so far say or imply of each
//! configuration, the next configurations to run, and the Pareto front of cost against the
//! share of runs holding.
//!
//! Not here: running anything (`super::search`), the documents (`super`).

use super::Status;

/// The grid's shape: the number of values of each key, the first key varying slowest (as
/// `vary::grid` lists the points).
#[derive(Debug, Clone)]
pub(crate) struct Lattice {
    pub(crate) sizes: Vec<usize>,
}

impl Lattice {
    pub(crate) fn len(&self) -> usize {
        self.sizes.iter().product()
    }

    /// The coordinates of point `p`.
    pub(crate) fn coords(&self, p: usize) -> Vec<usize> {
        let mut c = vec![0; self.sizes.len()];
        let mut rest = p;
        for (i, n) in self.sizes.iter().enumerate().rev() {
            c[i] = rest % n;
            rest /= n;
        }
        c
    }

    /// The point at coordinates `c`.
    pub(crate) fn point(&self, c: &[usize]) -> usize {
        c.iter().zip(&self.sizes).fold(0, |p, (x, n)| p * n + x)
    }

    /// Whether `hi` dominates `lo` on the keys marked `monotone` (at least the value of each
    /// monotone key, the same value of each other key).
    pub(crate) fn dominates(&self, hi: usize, lo: usize, monotone: &[bool]) -> bool {
        let (a, b) = (self.coords(hi), self.coords(lo));
        a.iter()
            .zip(&b)
            .zip(monotone)
            .all(|((x, y), m)| if *m { x >= y } else { x == y })
    }

    /// The cheaper neighbours of `p`: one value down on each key, where there is one.
    pub(crate) fn below(&self, p: usize) -> Vec<usize> {
        let c = self.coords(p);
        (0..c.len())
            .filter(|&i| c[i] > 0)
            .map(|i| {
                let mut d = c.clone();
                d[i] -= 1;
                self.point(&d)
            })
            .collect()
    }
}

/// What is known or implied of every point: its own runs' majority, else (on the monotone keys)
/// a holding point it dominates or a failing point that dominates it.
pub(crate) fn statuses(lat: &Lattice, own: &[Option<bool>], monotone: &[bool]) -> Vec<Status> {
    let holding: Vec<usize> = (0..own.len()).filter(|&p| own[p] == Some(true)).collect();
    let failing: Vec<usize> = (0..own.len()).filter(|&p| own[p] == Some(false)).collect();
    (0..own.len())
        .map(|p| match own[p] {
            Some(true) => Status::Holds,
            Some(false) => Status::Fails,
            None if holding.iter().any(|&h| lat.dominates(p, h, monotone)) => Status::ImpliedHolds,
            None if failing.iter().any(|&f| lat.dominates(f, p, monotone)) => Status::ImpliedFails,
            None => Status::NotNeeded,
        })
        .collect()
}

/// The points to run next (one replication each): on every line along the key `line` (the
/// points that differ only in it), the unknown points that could still beat `best` (cheaper, or
/// as dear and earlier in the grid); where the line's key is monotone, the middle one of them (bisection), else all.
/// With no line key (no monotone key), every unknown point that could beat `best`.
pub(crate) fn picks(
    lat: &Lattice,
    status: &[Status],
    cost: &dyn Fn(usize) -> f64,
    best: Option<usize>,
    line: Option<usize>,
) -> Vec<usize> {
    let beats = |p: usize| best.is_none_or(|b| cost(p).total_cmp(&cost(b)).then(p.cmp(&b)).is_lt());
    let open = |p: usize| status[p] == Status::NotNeeded && beats(p);
    let Some(k) = line else {
        return (0..lat.len()).filter(|&p| open(p)).collect();
    };
    let mut out = Vec::new();
    for p in 0..lat.len() {
        let c = lat.coords(p);
        if c[k] != 0 {
            continue; // each line once, from its first point
        }
        let along: Vec<usize> = (0..lat.sizes[k])
            .map(|x| {
                let mut d = c.clone();
                d[k] = x;
                lat.point(&d)
            })
            .filter(|&q| open(q))
            .collect();
        if !along.is_empty() {
            out.push(along[(along.len() - 1) / 2]);
        }
    }
    out
}

/// Whether two costs per hour are the same but for rounding (to a billionth).
fn same_cost(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// The evidence around the optimum `b`: its neighbours one value down on a key that cost
/// strictly less (a step down an unpriced key costs the same: no evidence that nothing cheaper
/// holds), and the points that cost the same as `b`, but for rounding, and hold (own runs or
/// implied) or are one value down from it: equally cheap alternatives. Both in grid order.
pub(crate) fn evidence(
    lat: &Lattice,
    cost: &dyn Fn(usize) -> f64,
    status: &[Status],
    b: usize,
) -> (Vec<usize>, Vec<usize>) {
    let below = lat.below(b);
    let cheaper = (below.iter().copied())
        .filter(|&q| cost(q) < cost(b) && !same_cost(cost(q), cost(b)))
        .collect();
    let same = (0..lat.len())
        .filter(|&p| p != b && same_cost(cost(p), cost(b)))
        .filter(|&p| {
            matches!(status[p], Status::Holds | Status::ImpliedHolds) || below.contains(&p)
        })
        .collect();
    (cheaper, same)
}

/// The Pareto front of cost against the share of runs holding, among `tried` (point, cost,
/// share): no other tried point is at most as dear and holds at least as often, one of them
/// strictly. In order of cost.
pub(crate) fn pareto(tried: &[(usize, f64, f64)]) -> Vec<usize> {
    let mut front: Vec<(usize, f64, f64)> = tried
        .iter()
        .copied()
        .filter(|&(p, c, s)| {
            !tried
                .iter()
                .any(|&(q, d, t)| q != p && d <= c && t >= s && (d < c || t > s))
        })
        .collect();
    front.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    front.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
    front.into_iter().map(|x| x.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_dominance_and_neighbours() {
        let lat = Lattice { sizes: vec![3, 4] };
        assert_eq!(lat.len(), 12);
        assert_eq!(lat.coords(7), [1, 3]);
        assert_eq!(lat.point(&[1, 3]), 7);
        // (2, 3) dominates (1, 1); not when the first key is not monotone.
        assert!(lat.dominates(11, 5, &[true, true]));
        assert!(!lat.dominates(11, 5, &[false, true]));
        assert!(lat.dominates(7, 5, &[false, true]));
        assert_eq!(lat.below(5), [1, 4]);
        assert_eq!(lat.below(0), Vec::<usize>::new());
    }

    #[test]
    fn what_runs_imply_and_what_to_run_next() {
        let lat = Lattice { sizes: vec![2, 5] };
        let mut own = vec![None; 10];
        own[2] = Some(true); // (0, 2) holds
        own[5] = Some(false); // (1, 0) fails
        let st = statuses(&lat, &own, &[true, true]);
        assert_eq!(st[3], Status::ImpliedHolds);
        assert_eq!(st[8], Status::ImpliedHolds);
        assert_eq!(st[0], Status::ImpliedFails);
        assert_eq!(st[5], Status::Fails);
        assert_eq!((st[1], st[6]), (Status::NotNeeded, Status::NotNeeded));
        assert_eq!(st[7], Status::ImpliedHolds);
        // Without monotonicity on the first key, (1, 2) is not implied by (0, 2).
        assert_eq!(statuses(&lat, &own, &[false, true])[7], Status::NotNeeded);
        // Cost = the sum of the coordinates: (0, 1) costs 1, below (0, 2)'s 2.
        let cost = |p: usize| lat.coords(p).iter().sum::<usize>() as f64;
        assert_eq!(picks(&lat, &st, &cost, Some(2), Some(1)), [1]);
        assert_eq!(picks(&lat, &st, &cost, Some(2), None), [1]);
        assert_eq!(picks(&lat, &st, &cost, None, Some(1)), [1, 6]);
        assert_eq!(
            pareto(&[(0, 1.0, 0.0), (1, 2.0, 1.0), (2, 3.0, 1.0), (3, 2.5, 0.5)]),
            [0, 1]
        );
    }

    /// The new-user trial's "one step cheaper" point cost the same as the optimum: one value
    /// down on an unpriced key. It is no evidence that nothing cheaper holds, so it is listed
    /// as costing the same, with the configurations of that cost that hold.
    #[test]
    fn a_step_down_an_unpriced_key_is_not_cheaper() {
        // Instances 1..3 (1 per hour each) x a queue of 10, 100 (no price).
        let lat = Lattice { sizes: vec![3, 2] };
        let cost = |p: usize| (lat.coords(p)[0] + 1) as f64;
        let mut own = vec![None; 6];
        own[2] = Some(false); // (1, 0): 2 instances, queue 10, fails
        own[3] = Some(true); // (1, 1): 2 instances, queue 100, holds: the optimum
        own[1] = Some(false); // (0, 1) fails
        let st = statuses(&lat, &own, &[true, false]);
        let (cheaper, same) = evidence(&lat, &cost, &st, 3);
        assert_eq!(cheaper, [1], "only (0, 1) costs less");
        assert_eq!(same, [2], "(1, 0) costs the same");
        // A holding point of the same cost elsewhere in the grid is an alternative too; one
        // dearer is neither.
        let cost2 = |p: usize| [1.0, 1.0, 2.0, 2.0, 2.0 + 1e-12, 3.0][p];
        own[4] = Some(true);
        let st = statuses(&lat, &own, &[true, false]);
        assert_eq!(evidence(&lat, &cost2, &st, 3), (vec![1], vec![2, 4]));
        // The bottom of every range: nothing below.
        assert_eq!(evidence(&lat, &cost, &st, 0), (vec![], vec![]));
    }
}
