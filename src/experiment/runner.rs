//! The one parallel runner of many runs: replications (`super::replicate`), sweeps
//! (`super::sweep::run_tasks`, which sensitivity's trajectories also go through), comparisons
//! (`super::compare::run_all`), the crash-point search (`super::search::run::find`) and
//! optimize's search (`super::optimize`). A [`Runner`] holds what they share: how many threads
//! (`jobs`), the [`Stop`] signal (set by Ctrl-C or by a task that failed: no new task starts,
//! those running finish), the limits every run ends at, and a progress callback.
//!
//! Two shapes of work. [`Runner::each`]: a list known in advance, done on `jobs` threads, the
//! results in the order of the list whatever the threads (a task's seed is its own, never the
//! thread's: same seeds, same results for any `--jobs`). [`Runner::flight`]: tasks started one
//! at a time as their caller decides, each on a thread of its own, at most `jobs` at once, and
//! waited for as they end (the crash-point search decides what to run next from what ended).
//!
//! Not here: what a task does (simulating a model: `super::run_bounded`), journaling its result
//! (the caller's `finished`), the signal handler that sets the stop (`app::interrupt`).

use anyhow::{Result, anyhow};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use super::guard::Limits;
use super::{RunOutput, run_bounded};
use crate::model::Model;

/// Asked to stop: once set, no new task starts and those running finish. Set by the first
/// Ctrl-C (`app::interrupt`) or by a task whose result could not be kept.
#[derive(Debug, Default)]
pub struct Stop(AtomicBool);

impl Stop {
    /// Not set.
    pub const fn new() -> Stop {
        Stop(AtomicBool::new(false))
    }

    /// Set it; whether it was set already (a second Ctrl-C).
    pub fn set(&self) -> bool {
        self.0.swap(true, Ordering::SeqCst)
    }

    /// Unset it (a host that embeds surge, before its next call).
    pub fn clear(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    /// Whether it is set.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How runs are run: on how many threads, until when, reporting to whom.
pub(crate) struct Runner<'a> {
    /// Threads at once (at least one).
    pub(crate) jobs: usize,
    /// Once set, no new task starts.
    pub(crate) stop: &'a Stop,
    /// What ends each run early (`--until`, event and wall-clock bounds).
    pub(crate) limits: Limits,
    /// Called once per task that ended well, from the thread that ran it.
    pub(crate) progress: Option<&'a (dyn Fn() + Sync)>,
}

impl<'a> Runner<'a> {
    /// `jobs` threads, stopped by `stop`, runs unbounded, no progress callback.
    pub(crate) fn new(jobs: usize, stop: &'a Stop) -> Runner<'a> {
        Runner {
            jobs: jobs.max(1),
            stop,
            limits: Limits::default(),
            progress: None,
        }
    }

    /// Simulate `model` once with `seed`, within the runner's limits.
    pub(crate) fn run(&self, model: &Model, seed: u64) -> RunOutput {
        run_bounded(model, seed, &self.limits)
    }

    /// Do `task` for every item on `jobs` threads. What comes back is in the order of `items`:
    /// `None` for an item not started because the stop was set. A task's error sets the stop
    /// and is returned (the first, in the order of `items`, of those that failed).
    pub(crate) fn each<T: Sync, R: Send>(
        &self,
        items: &[T],
        task: &(dyn Fn(&T) -> Result<R> + Sync),
    ) -> Result<Vec<Option<R>>> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs.max(1))
            .build()?;
        pool.install(|| {
            items
                .par_iter()
                .map(|item| {
                    if self.stop.is_set() {
                        return Ok(None);
                    }
                    match task(item) {
                        Ok(r) => {
                            if let Some(p) = self.progress {
                                p();
                            }
                            Ok(Some(r))
                        }
                        Err(e) => {
                            self.stop.set();
                            Err(e)
                        }
                    }
                })
                .collect()
        })
    }

    /// Tasks started one at a time, each keyed by `K` (see [`Flight`]).
    pub(crate) fn flight<K: Send + 'static, R: Send + 'static>(&self) -> Flight<'_, K, R> {
        let (tx, rx) = mpsc::channel();
        Flight {
            runner: self,
            tx,
            rx,
            running: 0,
        }
    }
}

/// Tasks in flight, each on a thread of its own: [`Flight::start`] one, [`Flight::wait`] for
/// the next to end. Tasks still running when it is dropped are left to end unheard (their
/// threads are not joined).
pub(crate) struct Flight<'r, K, R> {
    runner: &'r Runner<'r>,
    tx: mpsc::Sender<(K, std::thread::Result<R>)>,
    rx: mpsc::Receiver<(K, std::thread::Result<R>)>,
    running: usize,
}

impl<K: Send + 'static, R: Send + 'static> Flight<'_, K, R> {
    /// Tasks that may start now: none once the stop is set, else the threads not busy.
    pub(crate) fn free(&self) -> usize {
        if self.runner.stop.is_set() {
            0
        } else {
            self.runner.jobs.saturating_sub(self.running)
        }
    }

    /// Tasks started and not yet waited for.
    pub(crate) fn running(&self) -> usize {
        self.running
    }

    /// Start `task` on a thread of its own.
    pub(crate) fn start(&mut self, key: K, task: Box<dyn FnOnce() -> R + Send>) {
        self.running += 1;
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(task));
            let _ = tx.send((key, out));
        });
    }

    /// Wait for the next task to end: its key, and its result or `Err` when it panicked.
    pub(crate) fn wait(&mut self) -> Result<(K, Result<R, ()>)> {
        let (key, out) = self
            .rx
            .recv()
            .map_err(|_| anyhow!("every run thread is gone"))?;
        self.running -= 1;
        if out.is_ok()
            && let Some(p) = self.runner.progress
        {
            p();
        }
        Ok((key, out.map_err(|_| ())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_keeps_the_order_of_its_items_and_stops_on_an_error() {
        let stop = Stop::new();
        let items: Vec<u32> = (0..50).collect();
        for jobs in [1, 4] {
            let out = Runner::new(jobs, &stop)
                .each(&items, &|&i| Ok(i * 2))
                .unwrap();
            assert_eq!(out, items.iter().map(|i| Some(i * 2)).collect::<Vec<_>>());
        }
        let err = Runner::new(2, &stop).each(&items, &|&i| match i {
            7 => Err(anyhow!("no room for 7")),
            _ => Ok(i),
        });
        assert!(err.unwrap_err().to_string().contains("7"));
        assert!(stop.is_set(), "a failed task stops the rest");
        let none = Runner::new(2, &stop).each(&items, &|&i| Ok(i)).unwrap();
        assert!(
            none.iter().all(Option::is_none),
            "nothing starts once stopped"
        );
    }

    #[test]
    fn a_flight_runs_at_most_jobs_at_once_and_reports_panics() {
        let stop = Stop::new();
        let runner = Runner::new(2, &stop);
        let mut f = runner.flight::<u32, u32>();
        assert_eq!(f.free(), 2);
        f.start(1, Box::new(|| 10));
        f.start(2, Box::new(|| panic!("run 2 failed")));
        assert_eq!((f.free(), f.running()), (0, 2));
        let mut got = [f.wait().unwrap(), f.wait().unwrap()];
        got.sort_by_key(|(k, _)| *k);
        assert_eq!(got, [(1, Ok(10)), (2, Err(()))]);
        assert!(!stop.set());
        assert_eq!(f.free(), 0, "no new task once stopped");
    }
}
