//! The question before a long sweep: from `ASK_FROM_RUNS` runs, say how many runs and about how
//! long they take, and on a terminal ask before starting (`--yes` answers for the user). On a
//! pipe or in a batch job nobody can answer, so the sweep just runs (the line is still printed
//! unless `--quiet`). It stays with the sweep (`app::sweep`) because it is asked after the grid
//! is loaded and the threads counted, and before anything is locked or written.
//!
//! Not here: the guard rails that refuse a run or a sweep whatever the answer
//! (`experiment::guard`, `experiment::sweep::check_runs`).

use anyhow::Result;
use std::io::{BufRead, IsTerminal, Write};

use crate::experiment::guard::{EVENTS_PER_S, estimate_events};
use crate::fmt::{human_count, human_duration};
use crate::model::Model;

/// Sweeps of this many runs or more are announced, and asked about on a terminal.
pub(crate) const ASK_FROM_RUNS: usize = 1000;

/// Announce a sweep of `reps` replications of each of `points` on `jobs` threads and, on a
/// terminal, ask whether to start. `Ok(false)`: the user said no.
pub(crate) fn confirm_sweep(
    points: &[&Model],
    reps: u32,
    jobs: usize,
    yes: bool,
    quiet: bool,
) -> Result<bool> {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let events: f64 = points.iter().map(|m| estimate_events(m)).sum::<f64>() * f64::from(reps);
    let ask = Ask {
        runs: points.len() * reps as usize,
        points: points.len(),
        reps,
        estimate_s: events / EVENTS_PER_S / jobs.max(1) as f64,
        jobs,
    };
    let mut input = std::io::stdin().lock();
    let mut err = std::io::stderr().lock();
    ask.decide(yes, quiet, interactive, &mut input, &mut err)
}

/// The size of a sweep, as announced.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ask {
    pub runs: usize,
    pub points: usize,
    pub reps: u32,
    /// Wall-clock estimate on `jobs` threads, seconds.
    pub estimate_s: f64,
    pub jobs: usize,
}

impl Ask {
    /// The announcement: "12,000 runs (1,200 points x 10 replications), about 2 h 5 min ...".
    pub(crate) fn line(&self) -> String {
        format!(
            "this sweep is {} runs ({} points x {} replications), about {} on {} threads (estimated from the model's event count at {} M events/s per thread)",
            human_count(self.runs as f64),
            human_count(self.points as f64),
            self.reps,
            human_duration(self.estimate_s),
            self.jobs,
            EVENTS_PER_S / 1e6
        )
    }

    /// Announce and ask; `interactive` is a terminal on both ends. Answers other than y/yes
    /// (an empty line or end of input included) decline.
    pub(crate) fn decide(
        &self,
        yes: bool,
        quiet: bool,
        interactive: bool,
        input: &mut dyn BufRead,
        out: &mut dyn Write,
    ) -> Result<bool> {
        if self.runs < ASK_FROM_RUNS {
            return Ok(true);
        }
        if yes || !interactive {
            if !quiet {
                writeln!(out, "{}", self.line())?;
            }
            return Ok(true);
        }
        write!(
            out,
            "{}.\nStart it? [y/N] (--yes skips this question) ",
            self.line()
        )?;
        out.flush()?;
        let mut answer = String::new();
        input.read_line(&mut answer)?;
        let go = matches!(answer.trim().to_lowercase().as_str(), "y" | "yes");
        if !go {
            writeln!(out, "sweep not started")?;
        }
        Ok(go)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(runs: usize) -> Ask {
        Ask {
            runs,
            points: runs / 10,
            reps: 10,
            estimate_s: 7500.0,
            jobs: 8,
        }
    }

    fn decide(a: Ask, yes: bool, interactive: bool, answer: &str) -> (bool, String) {
        let mut out = Vec::new();
        let go = a
            .decide(yes, false, interactive, &mut answer.as_bytes(), &mut out)
            .unwrap();
        (go, String::from_utf8(out).unwrap())
    }

    #[test]
    fn small_sweeps_just_run() {
        assert_eq!(decide(ask(990), false, true, ""), (true, String::new()));
    }

    #[test]
    fn a_terminal_is_asked_and_only_yes_starts() {
        let (go, said) = decide(ask(12_000), false, true, "y\n");
        assert!(go);
        assert!(
            said.contains("12,000 runs (1,200 points x 10 replications)"),
            "{said}"
        );
        assert!(said.contains("about 2 h 5 min on 8 threads"), "{said}");
        assert!(said.contains("Start it? [y/N]"), "{said}");
        assert!(decide(ask(12_000), false, true, "YES\n").0);
        let (go, said) = decide(ask(12_000), false, true, "\n");
        assert!(!go);
        assert!(said.contains("not started"));
        assert!(!decide(ask(12_000), false, true, "").0);
        assert!(!decide(ask(12_000), false, true, "nope\n").0);
    }

    #[test]
    fn yes_and_pipes_run_after_saying_the_size() {
        for (yes, interactive) in [(true, true), (false, false)] {
            let (go, said) = decide(ask(12_000), yes, interactive, "");
            assert!(go);
            assert!(said.contains("12,000 runs"), "{said}");
            assert!(!said.contains("Start it?"), "{said}");
        }
    }
}
