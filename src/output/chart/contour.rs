//! The geometry of a heatmap's crash boundary: the cell edges between cells at or above a level
//! and their neighbours below, joined into lines. Pure geometry, no drawing.

/// The crash boundary on a grid of cells: the cell edges between a cell whose value is `level`
/// or more and a neighbour whose value is below (a cell without a value has no edge), joined
/// into polylines. `xs[i]` and `ys[j]` are the extents of the columns and rows in increasing
/// order and `v(i, j)` the value of the cell in column i and row j. The line follows the cells
/// and never crosses one: no cell is drawn on the failing side unless at least half its runs
/// failed.
pub(super) fn cell_boundary(
    xs: &[(f64, f64)],
    ys: &[(f64, f64)],
    v: &dyn Fn(usize, usize) -> f64,
    level: f64,
) -> Vec<Vec<(f64, f64)>> {
    let differ = |a: f64, b: f64| !a.is_nan() && !b.is_nan() && (a >= level) != (b >= level);
    let mut segs: Vec<[(f64, f64); 2]> = Vec::new();
    for j in 0..ys.len() {
        for i in 0..xs.len() {
            if i + 1 < xs.len() && differ(v(i, j), v(i + 1, j)) {
                let x = xs[i].1;
                segs.push([(x, ys[j].0), (x, ys[j].1)]);
            }
            if j + 1 < ys.len() && differ(v(i, j), v(i, j + 1)) {
                let y = ys[j].1;
                segs.push([(xs[i].0, y), (xs[i].1, y)]);
            }
        }
    }
    // Join segments end to end (corners are shared exactly: both come from the same extents).
    let key = |p: (f64, f64)| (p.0.to_bits(), p.1.to_bits());
    let mut used = vec![false; segs.len()];
    let mut lines = Vec::new();
    for k in 0..segs.len() {
        if used[k] {
            continue;
        }
        used[k] = true;
        let mut line = vec![segs[k][0], segs[k][1]];
        for forward in [true, false] {
            loop {
                let end = if forward {
                    line[line.len() - 1]
                } else {
                    line[0]
                };
                let next = (0..segs.len()).find(|&m| {
                    !used[m] && (key(segs[m][0]) == key(end) || key(segs[m][1]) == key(end))
                });
                let Some(m) = next else { break };
                used[m] = true;
                let far = if key(segs[m][0]) == key(end) {
                    segs[m][1]
                } else {
                    segs[m][0]
                };
                if forward {
                    line.push(far);
                } else {
                    line.insert(0, far);
                }
            }
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_follows_the_cells() {
        let cells = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)];
        // Failing cells (1) in the bottom right corner of a 3 x 3 grid.
        let v = [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]];
        let at = |i: usize, j: usize| v[j][i];
        let lines = cell_boundary(&cells, &cells, &at, 0.5);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        // A staircase along cell edges: every step is horizontal or vertical, and on a grid line.
        for w in line.windows(2) {
            assert!(w[0].0 == w[1].0 || w[0].1 == w[1].1, "{line:?}");
        }
        for p in line {
            assert!(p.0.fract() == 0.0 && p.1.fract() == 0.0, "{line:?}");
        }
        let mut ends = [line[0], line[line.len() - 1]];
        ends.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(ends, [(1.0, 0.0), (3.0, 2.0)], "{line:?}");
        assert_eq!(line.len(), 5, "{line:?}");
        // No failing cell, or cells without values: no boundary.
        assert!(cell_boundary(&cells, &cells, &|_, _| 0.2, 0.5).is_empty());
        assert!(
            cell_boundary(
                &cells,
                &cells,
                &|i, _| if i == 0 { f64::NAN } else { 1.0 },
                0.5
            )
            .is_empty()
        );
    }
}
