//! The event loop's machinery: simulated time, the event set and seeded random streams.
//!
//! The engine knows nothing of web servers: events are any small `Copy` type chosen by the
//! caller, and the world that handles them lives in `crate::system`.

pub mod calendar;
pub mod rng;
pub mod time;

pub use calendar::Calendar;
pub use rng::{Stream, derive_seed};
pub use time::Time;
