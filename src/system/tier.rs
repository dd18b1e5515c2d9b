//! A tier's instances and the balancer that spreads requests over them.

use std::collections::VecDeque;

use crate::engine::Stream;
use crate::engine::rng::open01;
use crate::model::{Balancer, Discipline, Dist, Tier};

/// One server process: its threads and its queue.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    pub busy: u32,
    pub waiting: VecDeque<u32>,
    /// Requests in the instance: waiting, in service or holding a thread for a later tier.
    pub in_instance: u32,
    pub up: bool,
}

/// A tier during a run.
pub struct TierState {
    pub instances: Vec<Instance>,
    pub threads: u32,
    /// Waiting places per instance (`u32::MAX` when unbounded).
    pub queue: u32,
    pub lifo: bool,
    pub service: Dist,
    pub contention: f64,
    pub visit: f64,
    pub balancer: Balancer,
    pub memory_base: f64,
    pub memory_per_request: f64,
    pub rng: Stream,
    next: u32,
}

impl TierState {
    pub fn new(t: &Tier, rng: Stream) -> TierState {
        TierState {
            instances: (0..t.instances)
                .map(|_| Instance {
                    up: true,
                    ..Default::default()
                })
                .collect(),
            threads: t.threads,
            queue: t.queue.unwrap_or(u32::MAX),
            lifo: t.discipline == Discipline::Lifo,
            service: t.service.clone(),
            contention: t.contention,
            visit: t.visit,
            balancer: t.balancer,
            memory_base: t.memory_base,
            memory_per_request: t.memory_per_request,
            rng,
            next: 0,
        }
    }

    /// The instance the balancer sends the next request to, or `None` if none is up.
    #[inline]
    pub fn pick(&mut self, rng: &mut Stream) -> Option<u32> {
        let n = self.instances.len() as u32;
        if n == 1 {
            return self.instances[0].up.then_some(0);
        }
        match self.balancer {
            Balancer::RoundRobin => {
                for _ in 0..n {
                    let i = self.next;
                    self.next = (self.next + 1) % n;
                    if self.instances[i as usize].up {
                        return Some(i);
                    }
                }
                None
            }
            Balancer::Random => {
                let i = (open01(rng) * f64::from(n)) as u32 % n;
                if self.instances[i as usize].up {
                    Some(i)
                } else {
                    self.first_up_after(i)
                }
            }
            Balancer::LeastConnections => {
                // Scan from a rotating start so ties do not always favour instance 0.
                let start = self.next;
                self.next = (self.next + 1) % n;
                let mut best: Option<(u32, u32)> = None;
                for k in 0..n {
                    let i = (start + k) % n;
                    let inst = &self.instances[i as usize];
                    if inst.up && best.is_none_or(|(_, load)| inst.in_instance < load) {
                        best = Some((i, inst.in_instance));
                    }
                }
                best.map(|(i, _)| i)
            }
            Balancer::PowerOfTwo => {
                let a = (open01(rng) * f64::from(n)) as u32 % n;
                let mut b = (open01(rng) * f64::from(n - 1)) as u32 % (n - 1);
                if b >= a {
                    b += 1;
                }
                let (ia, ib) = (&self.instances[a as usize], &self.instances[b as usize]);
                match (ia.up, ib.up) {
                    (true, true) => Some(if ib.in_instance < ia.in_instance {
                        b
                    } else {
                        a
                    }),
                    (true, false) => Some(a),
                    (false, true) => Some(b),
                    (false, false) => self.first_up_after(a),
                }
            }
        }
    }

    fn first_up_after(&self, i: u32) -> Option<u32> {
        let n = self.instances.len() as u32;
        (1..n)
            .map(|k| (i + k) % n)
            .find(|&j| self.instances[j as usize].up)
    }
}
