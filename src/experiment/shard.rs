//! Sweeps split across machines: which share of the points this process runs. The share comes
//! from `--shard I/N`, or else from the index variables of a job array (Slurm job arrays,
//! Kubernetes Indexed Jobs, AWS Batch array jobs). Point p belongs to shard p mod N, so every
//! shard gets points from the whole grid and the shards finish at about the same time. Also the
//! thread count a Slurm task was granted (`SLURM_CPUS_PER_TASK`).
//!
//! This module only decides; running the points and writing the shard files is the sweep's
//! business (`app::sweep`), and putting shards back together is `app::sweep::merge`.

use serde::{Deserialize, Serialize};

use crate::model::error::BadInput;

/// One share of a sweep: shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Where the shard was read from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShardSource {
    Flag,
    Slurm,
    Kubernetes,
    AwsBatch,
}

impl ShardSource {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            ShardSource::Flag => "--shard",
            ShardSource::Slurm => "the Slurm job array (SLURM_ARRAY_TASK_ID)",
            ShardSource::Kubernetes => "the Kubernetes Indexed Job (JOB_COMPLETION_INDEX)",
            ShardSource::AwsBatch => "the AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX)",
        }
    }
}

impl Shard {
    /// Whether point `p` is this shard's.
    pub(crate) fn contains(&self, point: usize) -> bool {
        point % self.count as usize == self.index as usize
    }

    /// The file stem of this shard's outputs: `shard-0007-of-0100` (wider for 10,000 shards and
    /// more, so names sort in order).
    pub(crate) fn stem(&self) -> String {
        let width = self.count.to_string().len().max(4);
        format!(
            "shard-{:0width$}-of-{:0width$}",
            self.index,
            self.count,
            width = width
        )
    }

    /// Check that every shard has a point to run.
    pub(crate) fn check_points(&self, points: usize) -> Result<(), BadInput> {
        if self.count as usize > points {
            return Err(BadInput(format!(
                "{} shards for a sweep of {points} points: shards {} to {} would have nothing to \
                 run; size the job array with `surge sweep ... --count-points` (at most one shard \
                 per point)",
                self.count,
                points,
                self.count - 1
            )));
        }
        Ok(())
    }
}

/// `I/N` as given to `--shard`.
pub(crate) fn parse_shard(raw: &str) -> Result<Shard, BadInput> {
    let bad = |why: &str| {
        BadInput(format!(
            "--shard {raw}: {why}; expected I/N with 0 <= I < N, e.g. --shard 0/4 for the first \
             of 4 shards"
        ))
    };
    let (i, n) = raw
        .split_once('/')
        .ok_or_else(|| bad("not of the form I/N"))?;
    let index: u32 = i
        .trim()
        .parse()
        .map_err(|_| bad(&format!("the index `{i}` is not a whole number")))?;
    let count: u32 = n
        .trim()
        .parse()
        .map_err(|_| bad(&format!("the count `{n}` is not a whole number")))?;
    check(index, count, &format!("--shard {raw}"))
}

fn check(index: u32, count: u32, place: &str) -> Result<Shard, BadInput> {
    if count == 0 {
        return Err(BadInput(format!(
            "{place}: the number of shards is 0; it must be at least 1"
        )));
    }
    if index >= count {
        return Err(BadInput(format!(
            "{place}: shard index {index} is not below the number of shards {count} (indices run \
             from 0 to {})",
            count - 1
        )));
    }
    Ok(Shard { index, count })
}

/// A whole number from the environment variable `name`, if it is set.
fn env_number(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<Option<i64>, BadInput> {
    match env(name) {
        None => Ok(None),
        Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
            BadInput(format!(
                "the environment variable {name}=`{v}` is not a whole number, so this process \
                 cannot tell which shard of the sweep it is; set it to the task's index, or pass \
                 --shard I/N"
            ))
        }),
    }
}

/// Which shard this process is: `--shard I/N` if given, else the first job-array index found in
/// the environment (`env` looks a variable up). `shards` is `--shards N`, the count for
/// Kubernetes (which passes only the index) and a check on the others. `None`: the whole sweep.
pub(crate) fn resolve(
    flag: Option<&str>,
    shards: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(Shard, ShardSource)>, BadInput> {
    if let Some(raw) = flag {
        let s = parse_shard(raw)?;
        if let Some(n) = shards.filter(|&n| n != s.count) {
            return Err(BadInput(format!(
                "--shard {raw} says {} shards but --shards says {n}",
                s.count
            )));
        }
        return Ok(Some((s, ShardSource::Flag)));
    }
    let u32_of = |x: i64, what: &str| {
        u32::try_from(x).map_err(|_| {
            BadInput(format!(
                "{what} = {x} is out of range for a shard index or count"
            ))
        })
    };
    // The count from the environment, checked against --shards; or --shards alone.
    let count_of = |from_env: Option<i64>, var: &str, place: &str| -> Result<u32, BadInput> {
        match (from_env, shards) {
            (Some(n), Some(m)) if n != i64::from(m) => Err(BadInput(format!(
                "{place}: {var}={n} but --shards says {m}"
            ))),
            (Some(n), _) => u32_of(n, var),
            (None, Some(m)) => Ok(m),
            (None, None) => Err(BadInput(format!(
                "{place} is set but not the number of shards: set {var} or pass --shards N (the \
                 size of the array)"
            ))),
        }
    };
    if let Some(id) = env_number(env, "SLURM_ARRAY_TASK_ID")? {
        let place = format!("SLURM_ARRAY_TASK_ID={id}");
        let min = env_number(env, "SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let step = env_number(env, "SLURM_ARRAY_TASK_STEP")?
            .unwrap_or(1)
            .max(1);
        let count = count_of(
            env_number(env, "SLURM_ARRAY_TASK_COUNT")?,
            "SLURM_ARRAY_TASK_COUNT",
            &place,
        )?;
        if id < min || (id - min) % step != 0 {
            return Err(BadInput(format!(
                "{place}: the task ID is not in the array that starts at SLURM_ARRAY_TASK_MIN={min} \
                 with step {step}"
            )));
        }
        let index = u32_of(
            (id - min) / step,
            "SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN",
        )?;
        return Ok(Some((check(index, count, &place)?, ShardSource::Slurm)));
    }
    if let Some(i) = env_number(env, "JOB_COMPLETION_INDEX")? {
        let place = format!("JOB_COMPLETION_INDEX={i}");
        let count = count_of(None, "--shards", &place)?;
        let index = u32_of(i, "JOB_COMPLETION_INDEX")?;
        return Ok(Some((
            check(index, count, &place)?,
            ShardSource::Kubernetes,
        )));
    }
    if let Some(i) = env_number(env, "AWS_BATCH_JOB_ARRAY_INDEX")? {
        let place = format!("AWS_BATCH_JOB_ARRAY_INDEX={i}");
        let count = count_of(
            env_number(env, "AWS_BATCH_JOB_ARRAY_SIZE")?,
            "AWS_BATCH_JOB_ARRAY_SIZE",
            &place,
        )?;
        let index = u32_of(i, "AWS_BATCH_JOB_ARRAY_INDEX")?;
        return Ok(Some((check(index, count, &place)?, ShardSource::AwsBatch)));
    }
    if let Some(n) = shards {
        return Err(BadInput(format!(
            "--shards {n} is given but no shard index: pass --shard I/{n}, or run inside a job \
             array (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX)"
        )));
    }
    Ok(None)
}

/// Parallel runs: `--jobs`, else the CPUs Slurm granted the task (`SLURM_CPUS_PER_TASK`), else
/// every core. The second value says where the number came from. A `--jobs` capped at
/// [`JOBS_PER_CORE`] per core is said to `note`.
pub(crate) fn jobs(
    flag: Option<usize>,
    env: &dyn Fn(&str) -> Option<String>,
    note: &dyn Fn(&str),
) -> (usize, &'static str) {
    if let Some(j) = flag {
        let (j, capped) = cap_jobs(j, cores());
        if let Some(n) = capped {
            note(&n);
        }
        return (j, "--jobs");
    }
    if let Some(n) = env("SLURM_CPUS_PER_TASK")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| (1..=4096).contains(&n))
    {
        return (n, "SLURM_CPUS_PER_TASK");
    }
    (cores(), "every core")
}

/// Most parallel runs per core: more only adds threads that wait (4,096 threads on 2 cores took
/// 140 s for what 2 did in 0.5 s), while a few per core still hide a stalled one.
pub(crate) const JOBS_PER_CORE: usize = 4;

/// The cores this process may use.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `--jobs` capped at `JOBS_PER_CORE` x `cores`, with the note that says so when it is.
pub(crate) fn cap_jobs(jobs: usize, cores: usize) -> (usize, Option<String>) {
    let cap = JOBS_PER_CORE * cores.max(1);
    if jobs <= cap {
        return (jobs, None);
    }
    (
        cap,
        Some(format!(
            "--jobs {jobs} is more than {JOBS_PER_CORE} per core: running {cap} at once on the \
             {cores} core{} here",
            if cores == 1 { "" } else { "s" }
        )),
    )
}

/// The process environment, for `resolve` and `jobs`.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_flag_comes_first() {
        let e = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "9"),
        ]);
        let (s, from) = resolve(Some("2/3"), None, &e).unwrap().unwrap();
        assert_eq!((s.index, s.count, from), (2, 3, ShardSource::Flag));
        assert!(resolve(Some("2/3"), Some(4), &e).is_err());
    }

    #[test]
    fn job_arrays_give_the_shard() {
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "12"),
            ("SLURM_ARRAY_TASK_MIN", "10"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        let (s, from) = resolve(None, None, &slurm).unwrap().unwrap();
        assert_eq!((s.index, s.count, from), (2, 4, ShardSource::Slurm));
        let stepped = env(&[
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
        ]);
        assert_eq!(resolve(None, None, &stepped).unwrap().unwrap().0.index, 3);
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0")]);
        let (s, from) = resolve(None, Some(3), &k8s).unwrap().unwrap();
        assert_eq!((s.index, s.count, from), (0, 3, ShardSource::Kubernetes));
        assert!(resolve(None, None, &k8s).is_err(), "the count is needed");
        let aws = env(&[
            ("AWS_BATCH_JOB_ARRAY_INDEX", "1"),
            ("AWS_BATCH_JOB_ARRAY_SIZE", "2"),
        ]);
        let (s, from) = resolve(None, None, &aws).unwrap().unwrap();
        assert_eq!((s.index, s.count, from), (1, 2, ShardSource::AwsBatch));
        assert_eq!(resolve(None, None, &env(&[])).unwrap(), None);
    }

    #[test]
    fn bad_shards_are_input_errors() {
        let none = env(&[]);
        for raw in ["3/3", "0/0", "a/3", "1", "-1/3", "1/x"] {
            assert!(resolve(Some(raw), None, &none).is_err(), "{raw}");
        }
        let garbage = env(&[("SLURM_ARRAY_TASK_ID", "seven")]);
        let e = resolve(None, None, &garbage).unwrap_err().0;
        assert!(e.contains("SLURM_ARRAY_TASK_ID=`seven`"), "{e}");
        let past = env(&[("JOB_COMPLETION_INDEX", "3")]);
        assert!(resolve(None, Some(3), &past).is_err());
        assert!(resolve(None, Some(3), &none).is_err(), "--shards alone");
        let s = Shard {
            index: 0,
            count: 11,
        };
        assert!(s.check_points(10).is_err());
        assert!(s.check_points(11).is_ok());
    }

    #[test]
    fn points_go_round_robin_and_names_sort() {
        let s = Shard { index: 1, count: 3 };
        let mine: Vec<usize> = (0..10).filter(|&p| s.contains(p)).collect();
        assert_eq!(mine, [1, 4, 7]);
        assert_eq!(s.stem(), "shard-0001-of-0003");
        let big = Shard {
            index: 7,
            count: 12_000,
        };
        assert_eq!(big.stem(), "shard-00007-of-12000");
    }

    #[test]
    fn slurm_grants_the_threads() {
        let slurm = env(&[("SLURM_CPUS_PER_TASK", "3")]);
        assert_eq!(jobs(None, &slurm, &|_| ()), (3, "SLURM_CPUS_PER_TASK"));
        assert_eq!(jobs(Some(5), &slurm, &|_| ()), (5, "--jobs"));
        let bad = env(&[("SLURM_CPUS_PER_TASK", "lots")]);
        assert_eq!(jobs(None, &bad, &|_| ()).1, "every core");
    }
}
