//! The event loop's machinery: simulated time, the event set and seeded random streams.
//!
//! The engine knows nothing of web servers: events are any small `Copy` type chosen by the
//! caller, and the world that handles them lives in `crate::system`.

pub(crate) mod calendar;
pub(crate) mod rng;
pub(crate) mod time;

pub(crate) use calendar::Calendar;
pub(crate) use rng::{Stream, derive_seed};
pub(crate) use time::Time;
