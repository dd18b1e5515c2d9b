//! Visits and sessions of an access log, read as it streams by (`surge fit`): who asked
//! ([`Visit`]: the client's address, with its user agent where the log has one, hashed; the
//! status; whether the request is for an asset), the status codes, and sessions cut by an
//! inactivity gap ([`Visits`]). A session is one client's requests with no silence longer than
//! the gap; its pages are its requests that are not assets; the time between the starts of its
//! consecutive pages is a think time; a session whose address had a session before is a return.
//!
//! Memory is bounded, not flat: one entry per client with a session open (at most
//! [`MAX_OPEN`]) and one per address seen (at most [`MAX_ADDRESSES`]; past it, returns are
//! undercounted and the summary says so). Think and return gaps are kept in seeded reservoirs.
//! What the counts mean as a model (pages, think, users) is `sessions_fit`'s business.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::collect::{Grid, MAX_SPAN_S, Running};
use super::{Fnv, Record};

/// Who asked for a request, as an access log says: all zero where the format does not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Visit {
    /// The client: its address and user agent, hashed (0: unknown).
    pub client: u64,
    /// The client's address alone, hashed (0: unknown).
    pub address: u64,
    /// HTTP status (0: unknown).
    pub status: u16,
    /// A request for an asset (image, style sheet, script, font, icon), not a page.
    pub asset: bool,
}

/// A hash of one or two byte strings, never 0 (0 means unknown).
pub(crate) fn client_hash(address: &str, agent: Option<&str>) -> u64 {
    let mut h = Fnv::default();
    h.write(address.as_bytes());
    if let Some(a) = agent {
        h.write(&[0]);
        h.write(a.as_bytes());
    }
    h.finish().max(1)
}

/// Clients with a session open at once, at most; a request of a further client is not sessioned.
pub(crate) const MAX_OPEN: usize = 2_000_000;
/// Addresses remembered for returns, at most.
pub(crate) const MAX_ADDRESSES: usize = 4_000_000;
/// Gaps kept for the fits (think times, return gaps).
pub(crate) const GAP_RESERVOIR: usize = 100_000;
/// Pages per session counted one by one; longer sessions share the last count.
pub(crate) const MAX_PAGES_COUNTED: usize = 10_000;
/// A think time recorded as 0 (two pages in the same second) is read as this, seconds.
pub(crate) const ZERO_THINK_S: f64 = 0.5;

type FnvMap<V> = HashMap<u64, V, BuildHasherDefault<Fnv>>;

/// A session under way.
#[derive(Debug, Clone, Copy)]
struct Open {
    address: u64,
    start_s: f64,
    last_s: f64,
    first_page_s: f64,
    last_page_s: f64,
    pages: u32,
    /// Whether the last page failed on the server's side (status 500 or more): the failures a
    /// model's overloaded site gives, after which its users may `return`.
    last_page_failed: bool,
}

/// An address's last finished session.
#[derive(Debug, Clone, Copy)]
struct Past {
    end_s: f64,
    ended_in_error: bool,
}

/// A seeded reservoir of numbers (algorithm R) with their exact running mean.
#[derive(Debug, Clone)]
pub(crate) struct Gaps {
    pub all: Running,
    pub kept: Vec<f64>,
    rng: Xoshiro256PlusPlus,
}

impl Gaps {
    fn new(seed: u64) -> Gaps {
        Gaps {
            all: Running::default(),
            kept: Vec::new(),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }
    fn add(&mut self, x: f64) {
        self.all.add(x);
        if self.kept.len() < GAP_RESERVOIR {
            self.kept.push(x);
        } else {
            let j = self.rng.random_range(0..self.all.n);
            if (j as usize) < GAP_RESERVOIR {
                self.kept[j as usize] = x;
            }
        }
    }
}

/// Returns after one kind of ending: sessions that ended so, and how many of their addresses
/// came back for another session within the data.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ending {
    pub sessions: u64,
    pub returned: u64,
}

/// Everything kept of an access log's visits while reading.
#[derive(Debug, Clone)]
pub(crate) struct Visits {
    pub gap_s: f64,
    /// Requests with a client named.
    pub requests: u64,
    pub pages: u64,
    pub assets: u64,
    /// Requests by HTTP status (index: the status; 0: not recorded).
    pub statuses: Vec<u64>,
    /// Sessions (with at least one page) by the second of their first page.
    pub starts: Grid<u32>,
    pub sessions: u64,
    /// Visits of assets only (no page): not sessions.
    pub asset_only: u64,
    /// Sessions that began within a gap of the first request or ended within a gap of the
    /// last: the data may hold only part of them.
    pub cut: u64,
    /// Pages per session: `page_counts[k]` sessions of k pages (the last index: that many or more).
    pub page_counts: Vec<u64>,
    pub pages_per_session: Running,
    /// Time between the starts of consecutive pages of a session, seconds.
    pub think: Gaps,
    /// Think times recorded as 0 or less (same second, or lines out of order).
    pub zero_thinks: u64,
    /// Session lengths, first page to last page, seconds.
    pub length: Running,
    /// Sessions whose address had a session that ended more than a gap before.
    pub returning: u64,
    /// From the end of an address's session to the start of its next, seconds.
    pub return_gaps: Gaps,
    /// Returns after a session whose last page was a server error (5xx), and after the others.
    pub after_error: Ending,
    pub after_success: Ending,
    /// Requests not sessioned because too many clients were open at once.
    pub untracked: u64,
    /// Whether some addresses were not remembered (returns undercounted).
    pub addresses_capped: bool,
    pub first_s: f64,
    pub last_s: f64,
    open: FnvMap<Open>,
    past: FnvMap<Past>,
    next_sweep_s: f64,
}

impl Visits {
    pub(crate) fn new(gap_s: f64) -> Visits {
        Visits {
            gap_s,
            requests: 0,
            pages: 0,
            assets: 0,
            statuses: vec![0; 600],
            starts: Grid::default(),
            sessions: 0,
            asset_only: 0,
            cut: 0,
            page_counts: vec![0; MAX_PAGES_COUNTED + 1],
            pages_per_session: Running::default(),
            think: Gaps::new(0x7417),
            zero_thinks: 0,
            length: Running::default(),
            returning: 0,
            return_gaps: Gaps::new(0x2e70),
            after_error: Ending::default(),
            after_success: Ending::default(),
            untracked: 0,
            addresses_capped: false,
            first_s: f64::INFINITY,
            last_s: f64::NEG_INFINITY,
            open: FnvMap::default(),
            past: FnvMap::default(),
            next_sweep_s: f64::NEG_INFINITY,
        }
    }

    /// Whether any request named its client.
    pub(crate) fn seen(&self) -> bool {
        self.requests > 0
    }

    /// Take one request (in time order, give or take the lines a log writes out of order).
    pub(crate) fn add(&mut self, r: &Record) {
        let v = r.visit;
        if v.status > 0 || v.client != 0 {
            let i = usize::from(v.status).min(self.statuses.len() - 1);
            self.statuses[i] += 1;
        }
        if v.client == 0 {
            return;
        }
        self.requests += 1;
        if v.asset {
            self.assets += 1;
        } else {
            self.pages += 1;
        }
        let t = r.start_s;
        self.first_s = self.first_s.min(t);
        self.last_s = self.last_s.max(t);
        if t >= self.next_sweep_s {
            self.sweep(t);
            self.next_sweep_s = t + self.gap_s / 8.0;
        }
        if let Some(o) = self.open.get(&v.client).copied() {
            if t - o.last_s <= self.gap_s {
                let o = self.open.get_mut(&v.client).expect("just found");
                o.last_s = o.last_s.max(t);
                if !v.asset {
                    Self::page(o, t, v.status, &mut self.think, &mut self.zero_thinks);
                }
                return;
            }
            self.open.remove(&v.client);
            self.close(o);
        }
        if self.open.len() >= MAX_OPEN {
            self.untracked += 1;
            return;
        }
        let mut o = Open {
            address: v.address,
            start_s: t,
            last_s: t,
            first_page_s: f64::NAN,
            last_page_s: f64::NAN,
            pages: 0,
            last_page_failed: false,
        };
        if !v.asset {
            Self::page(&mut o, t, v.status, &mut self.think, &mut self.zero_thinks);
        }
        self.open.insert(v.client, o);
    }

    fn page(o: &mut Open, t: f64, status: u16, think: &mut Gaps, zeros: &mut u64) {
        if o.pages == 0 {
            o.first_page_s = t;
        } else {
            let gap = t - o.last_page_s;
            if gap > 0.0 {
                think.add(gap);
            } else {
                *zeros += 1;
                think.add(ZERO_THINK_S);
            }
        }
        o.pages = o.pages.saturating_add(1);
        // f64::max ignores the NaN of a session's first page
        o.last_page_s = o.last_page_s.max(t);
        o.last_page_failed = status >= 500;
    }

    /// Close the sessions idle for longer than the gap at `now`.
    fn sweep(&mut self, now: f64) {
        let gap = self.gap_s;
        let mut idle = Vec::new();
        self.open.retain(|_, o| {
            let keep = now - o.last_s <= gap;
            if !keep {
                idle.push(*o);
            }
            keep
        });
        // in start order, so that an address's returns are seen in time order
        idle.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        for o in idle {
            self.close(o);
        }
    }

    fn close(&mut self, o: Open) {
        if o.pages == 0 {
            self.asset_only += 1;
            return;
        }
        self.sessions += 1;
        let sec = o.first_page_s.floor() as i64;
        if let Some(c) = self.starts.cell(sec, MAX_SPAN_S as usize) {
            *c += 1;
        }
        if o.start_s - self.first_s < self.gap_s || self.last_s - o.last_s < self.gap_s {
            self.cut += 1;
        }
        let k = (o.pages as usize).min(MAX_PAGES_COUNTED);
        self.page_counts[k] += 1;
        self.pages_per_session.add(f64::from(o.pages));
        self.length.add(o.last_page_s - o.first_page_s);
        if o.address == 0 {
            return;
        }
        if let Some(p) = self.past.get(&o.address).copied() {
            // a session of the same address within the gap is another browser behind it, not a return
            if o.start_s - p.end_s > self.gap_s {
                self.returning += 1;
                self.return_gaps.add(o.start_s - p.end_s);
                if p.ended_in_error {
                    self.after_error.returned += 1;
                } else {
                    self.after_success.returned += 1;
                }
            }
        }
        if o.last_page_failed {
            self.after_error.sessions += 1;
        } else {
            self.after_success.sessions += 1;
        }
        let past = Past {
            end_s: o.last_s,
            ended_in_error: o.last_page_failed,
        };
        if self.past.len() < MAX_ADDRESSES || self.past.contains_key(&o.address) {
            self.past.insert(o.address, past);
        } else {
            self.addresses_capped = true;
        }
    }

    /// Close every session still open: the end of the data.
    pub(crate) fn finish(&mut self) {
        let mut rest: Vec<Open> = self.open.drain().map(|(_, o)| o).collect();
        rest.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        for o in rest {
            self.close(o);
        }
        self.past = FnvMap::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: f64, client: u64, asset: bool, ok: bool) -> Record {
        Record {
            start_s: t,
            time_s: f64::NAN,
            ok,
            endpoint: 1,
            concurrency: f32::NAN,
            visit: Visit {
                client,
                address: if client == 9 { 1 } else { client },
                status: if ok { 200 } else { 500 },
                asset,
            },
            refusal: Default::default(),
        }
    }

    #[test]
    fn sessions_are_cut_by_the_gap_and_returns_counted() {
        let mut v = Visits::new(1800.0);
        // client 1: pages at 0, 60, 60 (same second), an asset at 61; back after 2 h: a page
        // that fails; back again after 1 h
        for r in [
            rec(0.0, 1, false, true),
            rec(60.0, 1, false, true),
            rec(60.0, 1, false, true),
            rec(61.0, 1, true, true),
            rec(100.0, 2, true, true), // client 2: an asset alone
            rec(7261.0, 1, false, false),
            rec(7262.0, 9, false, true), // another client of the same address as 1, at once
            rec(10_861.0, 1, false, true),
        ] {
            v.add(&r);
        }
        v.finish();
        assert_eq!(v.sessions, 4);
        assert_eq!(v.asset_only, 1);
        assert_eq!((v.pages, v.assets), (6, 2));
        assert_eq!(v.page_counts[3], 1);
        assert_eq!(v.page_counts[1], 3);
        assert_eq!(v.think.all.n, 2);
        assert_eq!(v.zero_thinks, 1);
        assert!((v.think.all.mean - (60.0 + ZERO_THINK_S) / 2.0).abs() < 1e-12);
        // client 9 behind address 1 one second after it is not a return; client 1 comes back
        // after 2 h, and after 1 h from the last session of its address (client 9's)
        assert_eq!(v.returning, 2);
        assert_eq!(v.return_gaps.kept, vec![7200.0, 3599.0]);
        assert_eq!((v.after_error.sessions, v.after_error.returned), (1, 0));
        assert_eq!((v.after_success.sessions, v.after_success.returned), (3, 2));
        assert_eq!(v.statuses[200], 7);
        assert_eq!(v.statuses[500], 1);
    }
}
