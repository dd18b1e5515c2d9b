//! The runs of a comparison, in rounds: every variant's first replications (`--reps N`: all N;
//! `--reps auto`: `FIRST_REPS`), then, with auto, one more replication per round of each variant
//! not yet told apart from the baseline (`super::sequential`), the baseline running each
//! replication some variant needs, until every variant is told apart, has run `--max-reps`, or
//! the caller's `round` says the next round does not fit (a time budget). A round is decided
//! only once every run of it has ended, and every run's seed is its replication's: the same
//! model and seed give the same runs and the same decisions whatever the threads. Runs read back
//! from a journal (`Done`) are not run again.
//!
//! Not here: the rule (`super::sequential`), the statistics of the runs (`super::summarise_all`),
//! journaling and the time budget (the caller's `finished` and `round`).

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::sequential::{Decision, Ended, FIRST_REPS, Pair, Rule, Verdict};
use super::{Done, kept};
use crate::experiment::runner::{Runner, Stop};
use crate::experiment::variant::Variant;
use crate::experiment::{RunOutput, replication_seed};
use crate::model::Model;

/// How many replications each variant runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Reps {
    /// Exactly this many, every variant (`--reps N`).
    Fixed(u32),
    /// `FIRST_REPS`, then one more per round while not told apart, up to `max`.
    Auto { max: u32 },
}

impl Reps {
    /// The most replications a variant may run.
    pub(crate) fn most(self) -> u32 {
        match self {
            Reps::Fixed(n) => n,
            Reps::Auto { max } => max,
        }
    }

    /// Replications of every variant in the first round.
    pub(crate) fn first(self) -> u32 {
        match self {
            Reps::Fixed(n) => n,
            Reps::Auto { max } => FIRST_REPS.min(max),
        }
    }

    /// The looks at a variant planned in advance: one per round.
    pub(crate) fn looks(self) -> u32 {
        self.most() - self.first() + 1
    }

    /// The rule of a comparison of `variants` variants (the baseline left out) at `confidence`.
    pub(crate) fn rule(self, confidence: f64, variants: u32) -> Rule {
        Rule::new(confidence, variants, self.looks(), self.most())
    }

    /// In words, for the journal's first line: `reps 3`, `reps auto max 10`.
    pub(crate) fn text(self) -> String {
        match self {
            Reps::Fixed(n) => format!("reps {n}"),
            Reps::Auto { max } => format!("reps auto max {max}"),
        }
    }
}

/// What a comparison's rounds gave: each variant's runs in replication order (the baseline's
/// as many as the most any variant ran) and each variant's decision (`None` for the baseline).
pub(crate) struct Ran {
    pub(crate) outs: Vec<Vec<RunOutput>>,
    pub(crate) decisions: Vec<Option<Decision>>,
}

/// Called before each round with the (variant, replication) runs it would start and the runs
/// done: whether to run it (the first round always runs; its answer is not asked for).
pub(crate) type Round<'a> = &'a dyn Fn(&[(usize, u32)], &Done, bool) -> bool;

/// Called as each run ends (to journal it).
pub(crate) type Finished<'a> = &'a (dyn Fn(usize, u32, &RunOutput) -> Result<()> + Sync);

/// A comparison to run: the variants (`variants[0]` the baseline), the seed, the replications
/// and the confidence of the decisions.
pub(crate) struct Rounds<'a> {
    pub(crate) variants: &'a [(Variant, Model)],
    pub(crate) seed: u64,
    pub(crate) reps: Reps,
    pub(crate) confidence: f64,
    /// Stop each replication that holds by the hold rule (`guard::Limits::hold_only`, outage
    /// by requests): `--reps auto`, not `--reps N` (whose runs are full runs).
    pub(crate) hold: bool,
}

impl Rounds<'_> {
    /// Run the rounds on `jobs` threads (see the module's comment). Once `stop` is set no new
    /// run starts and `None` comes back.
    pub(crate) fn run(
        &self,
        jobs: usize,
        mut done: Done,
        stop: &Stop,
        finished: Finished,
        round: Round,
    ) -> Result<Option<Ran>> {
        let k = self.variants.len();
        let rule = self
            .reps
            .rule(self.confidence, (k as u32).saturating_sub(1));
        let mut want = vec![self.reps.first(); k];
        let mut decisions: Vec<Option<Decision>> = vec![None; k];
        let mut runner = Runner::new(jobs, stop);
        if self.hold {
            runner.limits.hold_only = Some(crate::system::Until::FirstOutage);
        }
        for n in 0.. {
            want[0] = want.iter().skip(1).copied().max().unwrap_or(want[0]);
            let tasks: Vec<(usize, u32)> = (0..k)
                .flat_map(|v| (0..want[v]).map(move |r| (v, r)))
                .filter(|t| !done.contains_key(t))
                .collect();
            if !round(&tasks, &done, n == 0) && n > 0 {
                for (v, d) in decisions.iter_mut().enumerate().skip(1) {
                    if d.is_none() {
                        want[v] -= 1;
                        *d = Some(self.undecided(want[v], Ended::Budget));
                    }
                }
                want[0] = want.iter().skip(1).copied().max().unwrap_or(want[0]);
                break;
            }
            let outs = runner.each(&tasks, &|&(v, r)| {
                let seed = replication_seed(self.seed, u64::from(r));
                let out = kept(runner.run(&self.variants[v].1, seed));
                finished(v, r, &out)?;
                Ok(((v, r), out))
            })?;
            if outs.iter().any(Option::is_none) {
                return Ok(None);
            }
            done.extend(outs.into_iter().flatten());
            if !self.decide(&rule, &done, &mut want, &mut decisions) {
                break;
            }
        }
        let outs = (want.iter().enumerate())
            .map(|(v, &n)| (0..n).filter_map(|r| done.remove(&(v, r))).collect())
            .collect();
        Ok(Some(Ran { outs, decisions }))
    }

    /// Decide each variant still open on its `want[v]` pairs: told apart, out of replications,
    /// or one more (its `want` raised). Whether any variant goes on.
    fn decide(
        &self,
        rule: &Rule,
        done: &Done,
        want: &mut [u32],
        decisions: &mut [Option<Decision>],
    ) -> bool {
        let mut more = false;
        for v in 1..want.len() {
            if decisions[v].is_some() {
                continue;
            }
            let pairs: Vec<Pair> = (0..want[v])
                .filter_map(|r| Some(pair(done.get(&(0, r))?, done.get(&(v, r))?)))
                .collect();
            decisions[v] = match rule.decide(&pairs) {
                Some((verdict, metric)) => Some(Decision {
                    verdict,
                    metric: Some(metric),
                    reps: want[v],
                    ended: Ended::ToldApart,
                }),
                None if want[v] >= self.reps.most() => {
                    Some(self.undecided(want[v], Ended::RepsSpent))
                }
                None => {
                    want[v] += 1;
                    more = true;
                    None
                }
            };
        }
        more
    }

    fn undecided(&self, reps: u32, ended: Ended) -> Decision {
        Decision {
            verdict: Verdict::NotToldApart,
            metric: None,
            reps,
            ended,
        }
    }
}

/// The pair of a variant's replication and the baseline's of the same seed, on the deciding
/// metrics: the outage (by requests) and the downtime within the horizon (its value as
/// measured: a run still down at the end was down for that long in the horizon).
fn pair(base: &RunOutput, variant: &RunOutput) -> Pair {
    let (b, x) = (&base.summary.outage, &variant.summary.outage);
    let downtime = x.downtime_s - b.downtime_s;
    Pair {
        outage: f64::from(u8::from(x.crashed)) - f64::from(u8::from(b.crashed)),
        downtime: downtime.is_finite().then_some(downtime),
    }
}
