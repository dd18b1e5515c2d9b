//! Client timeouts: one FIFO per source outside the event set. A source's clients all wait the
//! same time, so the order the clocks start in is the order they ring in, and a source needs
//! only one pending event: its earliest clock still running. Most clocks stop early (the answer
//! came first); those are never events: when the pending one rings, the clocks stopped since are
//! skipped in a pass over the FIFO's front, so a source costs one event per clock that runs out
//! plus one per front that stopped, not one per request. Not here: what a client does once its
//! clock runs out (`client`).

use std::collections::VecDeque;

use super::World;
use super::events::Event;
use super::stamp::Stamp;
use crate::engine::{Calendar, Time};
use crate::metrics::Outcome;

/// The running client clocks of one source, in the order they ring.
#[derive(Debug, Default)]
pub(super) struct Clocks {
    /// (rings at, the attempt as a whole: `Attempt::whole_stamp`).
    fifo: VecDeque<(Time, Stamp)>,
    /// The calendar slot of the earliest clock (`None` until the source first starts one).
    slot: Option<usize>,
}

impl World<'_> {
    /// Start the client's clock of the attempt `whole` stamps, of `source`: it rings at `at`,
    /// unless the attempt has ended by then.
    pub(super) fn start_client_clock(
        &mut self,
        source: u16,
        at: Time,
        whole: Stamp,
        cal: &mut Calendar<Event>,
    ) {
        let c = &mut self.clocks[source as usize];
        let slot = *c.slot.get_or_insert_with(|| cal.add_slot());
        if c.fifo.is_empty() {
            cal.set_slot(slot, at, Event::ClientTimeout { source });
        }
        c.fifo.push_back((at, whole));
    }

    /// The earliest clock of `source` rings: the client gives up if its attempt is still open;
    /// then the next clock still running, if any, becomes the source's pending event.
    pub(super) fn client_clock_rings(&mut self, now: Time, source: u16, cal: &mut Calendar<Event>) {
        let front = self.clocks[source as usize].fifo.pop_front();
        if let Some((_, whole)) = front {
            let a = self.attempts[whole.slot()];
            if !a.ended_since(whole) && !a.client_gone {
                self.attempts[whole.slot()].client_gone = true;
                self.client_outcome(now, whole.req, Outcome::TimedOut, cal);
            }
        }
        let attempts = &self.attempts;
        let c = &mut self.clocks[source as usize];
        while let Some(&(at, whole)) = c.fifo.front() {
            let a = &attempts[whole.slot()];
            if !a.ended_since(whole) && !a.client_gone {
                let slot = c.slot.expect("a source with clocks has a slot");
                cal.set_slot(slot, at, Event::ClientTimeout { source });
                return;
            }
            c.fifo.pop_front();
        }
    }
}
