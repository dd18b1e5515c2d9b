//! `surge merge DIR... --out DIR`: put the shards of one sweep back together. It reads every
//! `shard-I-of-N.json` in the folders, checks that they belong to one sweep (same surge version,
//! model hash, grid, replications and seed, same number of shards) and that every shard is there
//! (a copy with the same bytes, say from a re-run pod, is harmless; two different results for
//! one shard are an error), then writes `points.csv`, `sweep.json` and the charts through the
//! sweep's own writer, so the result is the same, byte for byte, as the sweep run on one machine.
//!
//! It simulates nothing; running the shards is `surge sweep --shard` (see `experiment::shard`),
//! and the table printed at the end is the command's (`commands/merge.rs`).

use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::SweepFiles;
use crate::error::BadInput;
use crate::output::points::{self, Header, Record};
use crate::output::sweep::ShardManifest;
use crate::store::json::parse_json;

/// A merge, as the flags ask for it: the folders holding the shards, and the output folder
/// (`None`: the first of them).
#[derive(Debug, Clone)]
pub(crate) struct MergeSettings {
    pub(crate) dirs: Vec<PathBuf>,
    pub(crate) out: Option<PathBuf>,
    /// No line on stderr.
    pub(crate) quiet: bool,
    /// Where the line that says what is merged goes (`app::notes`), unless `quiet`.
    pub(crate) notes: crate::app::notes::Notes,
}

/// The shards found, by index: each with its copies (same bytes, or an error).
type ByIndex<'a> = BTreeMap<u32, Vec<&'a (PathBuf, ShardManifest)>>;

/// Whether `name` is a shard's manifest: `shard-<digits>-of-<digits>.json`.
fn is_manifest(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    name.strip_prefix("shard-")
        .and_then(|s| s.strip_suffix(".json"))
        .and_then(|s| s.split_once("-of-"))
        .is_some_and(|(i, n)| digits(i) && digits(n))
}

/// Every shard manifest in the folders, in name order.
fn find(dirs: &[PathBuf]) -> Result<Vec<(PathBuf, ShardManifest)>> {
    let mut found = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            BadInput(format!(
                "cannot read the folder {}: {e}; name the folders the shards wrote to",
                dir.display()
            ))
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_manifest)
            })
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            let m: ShardManifest = parse_json(&text, &p).map_err(|e| {
                BadInput(format!(
                    "{e}: not the manifest of a sweep shard; remove it or rerun that shard"
                ))
            })?;
            check_manifest(&p, &m)?;
            found.push((p, m));
        }
    }
    Ok(found)
}

/// Check that two manifests describe shards of one sweep.
fn same_sweep(a: &(PathBuf, ShardManifest), b: &(PathBuf, ShardManifest)) -> Result<(), BadInput> {
    let (pa, ma) = (a.0.display(), &a.1);
    let (pb, mb) = (b.0.display(), &b.1);
    let differ = |what: String| {
        Err(BadInput(format!(
            "{pa} and {pb} are shards of different sweeps ({what}); merge only the shards of one \
             sweep, run with one surge version, model, --set, --vary, --reps and --seed"
        )))
    };
    if ma.sweep.surge_version != mb.sweep.surge_version {
        return differ(format!(
            "surge {} and {}",
            ma.sweep.surge_version, mb.sweep.surge_version
        ));
    }
    if ma.sweep.model_hash != mb.sweep.model_hash {
        return differ(format!(
            "model hash {} and {}",
            ma.sweep.model_hash, mb.sweep.model_hash
        ));
    }
    if ma.sweep != mb.sweep || ma.points != mb.points {
        return differ("the same model hash but another grid, seed or replications".into());
    }
    if ma.shard.count != mb.shard.count {
        return differ(format!(
            "split into {} and {} shards",
            ma.shard.count, mb.shard.count
        ));
    }
    Ok(())
}

/// Check what a manifest claims before anything is sized by it: a file named bare (in the
/// manifest's own folder, never a path), a shard within its count, a point count that is its
/// grid's (multiplied without overflow, within a sweep's limit), and rows = its points x reps.
fn check_manifest(path: &Path, m: &ShardManifest) -> Result<(), BadInput> {
    let bad = |why: String| {
        BadInput(format!(
            "{}: {why}; it is not the manifest `surge sweep --shard` wrote: rerun that shard",
            path.display()
        ))
    };
    let bare = Path::new(&m.file)
        .file_name()
        .is_some_and(|n| n.to_str() == Some(m.file.as_str()))
        && !m.file.contains(['/', '\\'])
        && m.file != ".."
        && m.file.ends_with(".csv");
    if !bare {
        return Err(bad(format!(
            "it names the file `{}`, but a shard's CSV is named bare (shard-I-of-N.csv) in the \
             manifest's own folder",
            m.file
        )));
    }
    if m.shard.count == 0 || m.shard.index >= m.shard.count {
        return Err(bad(format!(
            "shard {} of {} does not exist",
            m.shard.index, m.shard.count
        )));
    }
    let grid = crate::experiment::sweep::grid_size(&m.sweep.vary)?;
    if m.points != grid || grid > crate::experiment::sweep::MAX_POINTS {
        return Err(bad(format!(
            "it claims {} points where its --vary values make {grid}",
            m.points
        )));
    }
    let mine = (0..m.points).filter(|&p| m.shard.contains(p)).count();
    let rows = mine as u64 * u64::from(m.sweep.reps);
    if m.shard_points.len() != mine || m.rows as u64 != rows {
        return Err(bad(format!(
            "it claims {} points and {} rows where shard {} of {} of {} points x {} replications \
             has {mine} and {rows}",
            m.shard_points.len(),
            m.rows,
            m.shard.index,
            m.shard.count,
            m.points,
            m.sweep.reps
        )));
    }
    Ok(())
}

/// The CSV a manifest names, read whole.
fn shard_csv(manifest: &Path, m: &ShardManifest) -> Result<(PathBuf, Vec<u8>)> {
    let path = manifest.with_file_name(&m.file);
    let bytes = std::fs::read(&path).map_err(|e| {
        BadInput(format!(
            "{} names {}, which cannot be read ({e}); rerun shard {}/{}",
            manifest.display(),
            path.display(),
            m.shard.index,
            m.shard.count
        ))
    })?;
    Ok((path, bytes))
}

/// Check the shards in `s.dirs` and write the sweep they make up (`points.csv`, `sweep.json`,
/// the charts, the report) into `s.out`.
pub(crate) fn merge(s: &MergeSettings) -> Result<SweepFiles> {
    let found = find(&s.dirs)?;
    let shown: Vec<String> = s.dirs.iter().map(|d| d.display().to_string()).collect();
    let shown = shown.join(", ");
    let Some(first) = found.first() else {
        bail!(BadInput(format!(
            "no shard files (shard-I-of-N.json beside shard-I-of-N.csv) in {shown}: run the \
             shards first with `surge sweep ... --shard I/N` or in a job array"
        )));
    };
    for other in &found[1..] {
        same_sweep(first, other)?;
    }
    let m0 = &first.1;
    let by_index = complete(&found, &shown)?;
    let (header, records) = read_shards(m0, &by_index)?;
    let out = s.out.clone().unwrap_or_else(|| s.dirs[0].clone());
    let _lock = crate::store::lock::lock(&out)?;
    if !s.quiet {
        s.notes.note(&format!(
            "merging {} shards of {} ({} points x {} replications, model hash {})",
            m0.shard.count, m0.sweep.model, m0.points, m0.sweep.reps, m0.sweep.model_hash
        ));
    }
    super::write_finished(&out, m0.sweep.clone(), &header, &records)
}

/// The shards found by index, once every index of the first one's count is there.
fn complete<'a>(found: &'a [(PathBuf, ShardManifest)], shown: &str) -> Result<ByIndex<'a>> {
    let count = found[0].1.shard.count;
    let mut by_index = ByIndex::new();
    for f in found {
        by_index.entry(f.1.shard.index).or_default().push(f);
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        let list = if missing.len() > 20 {
            format!("{}, ...", missing[..20].join(", "))
        } else {
            missing.join(", ")
        };
        bail!(BadInput(format!(
            "the sweep has {count} shards but {} of them are missing from {shown} (shard {list}); \
             run them (e.g. `surge sweep ... --shard {}/{count}`, or resubmit those array tasks) \
             and merge again",
            missing.len(),
            missing[0]
        )));
    }
    Ok(by_index)
}

/// The header and the records of every shard, in (point, replication) order, each shard's CSV
/// checked against its manifest and its copies.
fn read_shards(m0: &ShardManifest, by_index: &ByIndex) -> Result<(Header, Vec<Record>)> {
    let count = m0.shard.count;
    let keys = m0.sweep.vary.len();
    let reps = m0.sweep.reps;
    let grid = crate::experiment::sweep::grid(&m0.sweep.vary);
    let mut header: Option<(PathBuf, Header)> = None;
    let mut records: Vec<Record> = Vec::new();
    for (index, copies) in by_index {
        let (path, bytes) = shard_csv(&copies[0].0, &copies[0].1)?;
        for c in &copies[1..] {
            let (other, more) = shard_csv(&c.0, &c.1)?;
            if more != bytes {
                bail!(BadInput(format!(
                    "{} and {} are two different results for shard {index} of {count} \
                     (conflicting duplicates: same sweep, different rows); keep the right one, \
                     remove the other, and merge again",
                    path.display(),
                    other.display()
                )));
            }
        }
        let (h, recs) = points::read_csv(&bytes, keys, &path.display().to_string())?;
        match &header {
            None => header = Some((path.clone(), h)),
            Some((p, first)) if *first != h => bail!(BadInput(format!(
                "{} and {} have different columns: not shards of one sweep",
                p.display(),
                path.display()
            ))),
            Some(_) => {}
        }
        // As many rows as the manifest says (checked against its grid), before any is compared.
        if recs.len() != copies[0].1.rows {
            bail!(BadInput(format!(
                "{} holds {} rows where its manifest {} says {}; rerun shard {index} of {count}",
                path.display(),
                recs.len(),
                copies[0].0.display(),
                copies[0].1.rows
            )));
        }
        // Exactly this shard's (point, rep) pairs, each once.
        let expected: BTreeSet<(usize, u32)> = (0..m0.points)
            .filter(|&p| p % count as usize == *index as usize)
            .flat_map(|p| (0..reps).map(move |r| (p, r)))
            .collect();
        let got: BTreeSet<(usize, u32)> = recs.iter().map(|r| (r.point, r.rep)).collect();
        let values_match = recs.iter().all(|r| grid.get(r.point) == Some(&r.values));
        if got != expected || recs.len() != expected.len() || !values_match {
            bail!(BadInput(format!(
                "{} does not hold exactly the runs of shard {index} of {count} ({} rows for {} \
                 points x {reps} replications, with their points' values); rerun that shard",
                path.display(),
                recs.len(),
                expected.len() / reps as usize
            )));
        }
        records.extend(recs);
    }
    records.sort_by_key(|r| (r.point, r.rep));
    let (_, header) = header.context("no shard rows")?;
    Ok((header, records))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_recognised_by_name() {
        assert!(is_manifest("shard-0001-of-0004.json"));
        assert!(!is_manifest("shard-0001-of-0004.csv"));
        assert!(!is_manifest("shard-0001-of-0004.partial.csv"));
        assert!(!is_manifest("shard--of-4.json"));
        assert!(!is_manifest("sweep.json"));
    }
}
