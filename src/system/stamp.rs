//! An attempt's identity and generation as the events and queue entries about it carry them
//! (`Stamp`), with the check that tells a stale one from a current one. Not the attempt itself
//! (`attempts::Attempt`), nor the generations of instances (`Event::Restart`) or of the waiting
//! room's passes (`Event::RoomLapse`).

use super::attempts::Attempt;

/// Attempt `req` as it was when an event or queue entry about it was made. `epoch` is one of
/// the attempt's two generations: its `Attempt::epoch` for what concerns one hop (a service, a
/// queue place, a wait for a connection, a tier's retry of its callee: `Stamp::hop`), or its
/// `Attempt::born` for the attempt as a whole (its client's clocks and patience, the request
/// timeouts of the tiers it holds: `Stamp::whole`). Each has its own staleness check. Small
/// and `Copy`, as `Event` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) req: u32,
    pub(crate) epoch: u32,
}

impl Stamp {
    /// Attempt `req` (`a`) on the hop it is on now.
    #[inline]
    pub(super) fn hop(req: u32, a: &Attempt) -> Self {
        Stamp {
            req,
            epoch: a.epoch,
        }
    }

    /// Attempt `req` (`a`) as a whole, whatever hop it is on.
    #[inline]
    pub(super) fn whole(req: u32, a: &Attempt) -> Self {
        Stamp { req, epoch: a.born }
    }

    /// The attempt's index (in `World::attempts`).
    #[inline]
    pub(super) fn slot(self) -> usize {
        self.req as usize
    }

    /// A `hop` stamp of `a` is stale: the attempt has moved on from that hop since (served
    /// there, retried by its caller, or ended; the slot may hold a newer attempt).
    #[inline]
    pub(super) fn hop_stale(self, a: &Attempt) -> bool {
        a.epoch != self.epoch
    }

    /// A `whole` stamp of `a` is stale: the attempt has ended (the slot may hold a newer one).
    #[inline]
    pub(super) fn whole_stale(self, a: &Attempt) -> bool {
        !(a.live && a.born == self.epoch)
    }
}
