//! The small `Copy` parts the attempts' events and queue entries carry: an attempt's identity and
//! generation (`Stamp`), and a tier's call to a deeper one that it makes again (`TierCall`). A
//! leaf: the checks that read a stamp against its attempt are `Attempt`'s (`moved_on_from`,
//! `ended_since`). Not the generations of instances (`Event::Restart`) or of the waiting room's
//! passes (`Event::RoomLapse`).

/// Attempt `req` as it was when an event or queue entry about it was made. `epoch` is one of
/// the attempt's two generations: its `Attempt::epoch` for what concerns one hop (a service, a
/// queue place, a wait for a connection, a tier's retry of its callee: `Attempt::hop_stamp`,
/// checked by `Attempt::moved_on_from`), or its `Attempt::born` for the attempt as a whole
/// (its client's clocks and patience, the request timeouts of the tiers it holds:
/// `Attempt::whole_stamp`, checked by `Attempt::ended_since`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(super) req: u32,
    pub(super) epoch: u32,
}

impl Stamp {
    /// Attempt `req` at generation `epoch`.
    #[inline]
    pub(super) fn new(req: u32, epoch: u32) -> Self {
        Stamp { req, epoch }
    }

    /// The attempt's index (in `World::attempts`).
    #[inline]
    pub(super) fn slot(self) -> usize {
        self.req as usize
    }
}

/// A tier's call to a deeper one that it makes again after a failure (`hop_retry`): `caller`
/// retries, `callee` (the first tier the attempt reached after `caller`) is called again.
/// Carried by `Event::HopRetry` through the backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TierCall {
    pub(super) caller: u8,
    pub(super) callee: u8,
}
