//! The event set: a 4-ary min-heap of small `Copy` events keyed by (time, sequence number).
//!
//! Keys are integers, so ordering is exact and cheap; the sequence number makes ties resolve in
//! the order events were scheduled, which keeps runs deterministic (one event at a time may go
//! ahead of every tie: `schedule_first`, sequence number 0). The heap's storage is one
//! `Vec` that grows to the largest number of pending events and is then reused: scheduling and
//! popping allocate nothing in steady state. Cancellation is lazy: the caller tags events and
//! ignores stale ones when they come out.
//!
//! Events that always fire a fixed delay after they are scheduled (a client timeout, say) come
//! out in the order they went in, so they need no heap: each such stream is a *delay line*, a
//! FIFO whose front is compared with the heap's top. Most timeouts are cancelled long before
//! they fire; in a line they cost a push and a pop instead of bloating the heap.
//!
//! A process that always has exactly one next event and moves it often (the next arrival of a
//! source, the next departure from a pool of waiting users) owns a *slot*: one pending event
//! that `set_slot` overwrites in place, so a rescheduled event leaves nothing stale behind.
//!
//! Lines and slots are *channels*; the key of each channel's earliest event sits in one small
//! contiguous array that `pop` scans next to the heap's top.

use std::collections::VecDeque;

use super::time::Time;

#[derive(Clone, Copy)]
struct Entry<E> {
    /// time in the high 64 bits, sequence number in the low 64: one integer comparison.
    key: u128,
    event: E,
}

/// What a channel is: a delay line or a slot (index into `lines` or `slots`).
#[derive(Clone, Copy)]
enum Channel {
    Line(usize),
    Slot(usize),
}

/// No pending event on a channel.
const EMPTY: u128 = u128::MAX;

/// Pending events and the clock.
pub(crate) struct Calendar<E> {
    heap: Vec<Entry<E>>,
    lines: Vec<VecDeque<Entry<E>>>,
    slots: Vec<Option<E>>,
    /// Key of the earliest event of each channel (`EMPTY` when none), in channel order.
    fronts: Vec<u128>,
    channels: Vec<Channel>,
    /// Channel index of each line and each slot.
    line_channel: Vec<usize>,
    slot_channel: Vec<usize>,
    seq: u64,
    now: Time,
    popped: u64,
    peak_heap: usize,
}

const ARITY: usize = 4;

impl<E: Copy> Default for Calendar<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Calendar<E> {
    pub(crate) fn new() -> Self {
        Self::with_capacity(1024)
    }

    pub(crate) fn with_capacity(n: usize) -> Self {
        Calendar {
            heap: Vec::with_capacity(n),
            lines: Vec::new(),
            slots: Vec::new(),
            fronts: Vec::new(),
            channels: Vec::new(),
            line_channel: Vec::new(),
            slot_channel: Vec::new(),
            // 0 is kept for `schedule_first`.
            seq: 1,
            now: Time::ZERO,
            popped: 0,
            peak_heap: 0,
        }
    }

    /// The most events the heap has held at once (delay lines not counted).
    pub(crate) fn peak_heap(&self) -> usize {
        self.peak_heap
    }

    /// Events popped so far.
    #[inline]
    pub(crate) fn events_handled(&self) -> u64 {
        self.popped
    }

    /// Pending events.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
            + self.lines.iter().map(VecDeque::len).sum::<usize>()
            + self.slots.iter().filter(|s| s.is_some()).count()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A new delay line; returns its index for `schedule_line`.
    pub(crate) fn add_line(&mut self) -> usize {
        self.lines.push(VecDeque::new());
        self.line_channel.push(self.channels.len());
        self.channels.push(Channel::Line(self.lines.len() - 1));
        self.fronts.push(EMPTY);
        self.lines.len() - 1
    }

    /// A new slot, empty; returns its index for `set_slot` and `clear_slot`.
    pub(crate) fn add_slot(&mut self) -> usize {
        self.slots.push(None);
        self.slot_channel.push(self.channels.len());
        self.channels.push(Channel::Slot(self.slots.len() - 1));
        self.fronts.push(EMPTY);
        self.slots.len() - 1
    }

    /// Make `event` at `at` the one pending event of slot `slot`, replacing any earlier one
    /// (past times are clamped to now). Ties with other events resolve in scheduling order, as
    /// for `schedule`.
    #[inline]
    pub(crate) fn set_slot(&mut self, slot: usize, at: Time, event: E) {
        let at = at.max(self.now);
        let key = ((at.0 as u128) << 64) | self.seq as u128;
        self.seq += 1;
        self.slots[slot] = Some(event);
        self.fronts[self.slot_channel[slot]] = key;
    }

    /// Drop the pending event of slot `slot`, if any.
    #[inline]
    pub(crate) fn clear_slot(&mut self, slot: usize) {
        self.slots[slot] = None;
        self.fronts[self.slot_channel[slot]] = EMPTY;
    }

    /// Schedule `event` at `at` on delay line `line`. Events of one line must be scheduled in
    /// the order of their times (a fixed delay from now guarantees it); one that is not goes to
    /// the heap instead, so order is always kept.
    #[inline]
    pub(crate) fn schedule_line(&mut self, line: usize, at: Time, event: E) {
        let at = at.max(self.now);
        let key = ((at.0 as u128) << 64) | self.seq as u128;
        let l = &mut self.lines[line];
        if l.back().is_some_and(|b| b.key > key) {
            self.schedule(at, event);
            return;
        }
        self.seq += 1;
        if l.is_empty() {
            self.fronts[self.line_channel[line]] = key;
        }
        l.push_back(Entry { key, event });
    }

    /// Schedule `event` at `at` (never earlier than now: past times are clamped to now).
    #[inline]
    pub(crate) fn schedule(&mut self, at: Time, event: E) {
        let at = at.max(self.now);
        let key = ((at.0 as u128) << 64) | self.seq as u128;
        self.seq += 1;
        self.heap.push(Entry { key, event });
        self.peak_heap = self.peak_heap.max(self.heap.len());
        self.sift_up(self.heap.len() - 1);
    }

    /// Schedule `event` at `at` ahead of every other event at that time, whenever they were
    /// scheduled (a bucket's end comes before what happens at the next bucket's first instant).
    /// At most one such event may be pending at a time: two would share a key.
    #[inline]
    pub(crate) fn schedule_first(&mut self, at: Time, event: E) {
        let at = at.max(self.now);
        self.heap.push(Entry {
            key: (at.0 as u128) << 64,
            event,
        });
        self.peak_heap = self.peak_heap.max(self.heap.len());
        self.sift_up(self.heap.len() - 1);
    }

    /// Time of the earliest pending event.
    #[cfg(test)]
    pub(crate) fn peek_time(&self) -> Option<Time> {
        let heap = self.heap.first().map_or(EMPTY, |e| e.key);
        let key = self.fronts.iter().copied().fold(heap, u128::min);
        (key != EMPTY).then_some(Time((key >> 64) as u64))
    }

    /// Time of the earliest pending event, leaving out the events of the slots in `skip`
    /// (a process advanced by other means up to that time).
    pub(crate) fn earliest_except(&self, skip: &[usize]) -> Option<Time> {
        let mut best = self.heap.first().map_or(EMPTY, |e| e.key);
        for (i, &k) in self.fronts.iter().enumerate() {
            if k < best && !matches!(self.channels[i], Channel::Slot(s) if skip.contains(&s)) {
                best = k;
            }
        }
        (best != EMPTY).then_some(Time((best >> 64) as u64))
    }

    /// Time of slot `slot`'s pending event, if it has one.
    #[inline]
    pub(crate) fn slot_time(&self, slot: usize) -> Option<Time> {
        let key = self.fronts[self.slot_channel[slot]];
        (key != EMPTY).then_some(Time((key >> 64) as u64))
    }

    /// Remove the earliest event and advance the clock to its time.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(Time, E)> {
        // The earliest channel front, if it comes before the heap's top.
        let mut best_channel = usize::MAX;
        let mut best = self.heap.first().map_or(EMPTY, |e| e.key);
        for (i, &k) in self.fronts.iter().enumerate() {
            // Selects rather than jumps: which channel is next is not predictable.
            let earlier = k < best;
            best = if earlier { k } else { best };
            best_channel = if earlier { i } else { best_channel };
        }
        if best_channel != usize::MAX {
            // SAFETY: `best_channel` is an index of `fronts` (the loop above), and `fronts`,
            // `channels` have one entry per channel (`add_line` and `add_slot` push to both), so
            // it indexes `channels`; a channel's line or slot index was that of a line or slot
            // pushed when the channel was added, and neither list ever shrinks.
            let event = unsafe {
                let front = self.fronts.get_unchecked_mut(best_channel);
                match *self.channels.get_unchecked(best_channel) {
                    Channel::Line(l) => {
                        let line = self.lines.get_unchecked_mut(l);
                        let e = line.pop_front().expect("a line with a front has an entry");
                        *front = line.front().map_or(EMPTY, |f| f.key);
                        e.event
                    }
                    Channel::Slot(s) => {
                        let event = (self.slots.get_unchecked_mut(s).take())
                            .expect("a slot with a key has an event");
                        *front = EMPTY;
                        event
                    }
                }
            };
            let t = Time((best >> 64) as u64);
            self.now = t;
            self.popped += 1;
            return Some((t, event));
        }
        let last = self.heap.pop()?;
        let top = if self.heap.is_empty() {
            last
        } else {
            let top = self.heap[0];
            self.refill_root(last);
            top
        };
        let t = Time((top.key >> 64) as u64);
        self.now = t;
        self.popped += 1;
        Some((t, top.event))
    }

    #[inline]
    fn sift_up(&mut self, mut i: usize) {
        assert!(i < self.heap.len());
        let heap = self.heap.as_mut_ptr();
        // SAFETY: `i` < len (asserted above) and every index below is a parent of an index
        // < len, so smaller: each read and write is inside the heap's initialised length, and
        // nothing else touches `self.heap` while `heap` is used.
        unsafe {
            let item = *heap.add(i);
            while i > 0 {
                let parent = (i - 1) / ARITY;
                let p = *heap.add(parent);
                if p.key <= item.key {
                    break;
                }
                *heap.add(i) = p;
                i = parent;
            }
            *heap.add(i) = item;
        }
    }

    /// The root has been taken out: move its hole down to a leaf along the smallest children,
    /// then put `last` (the entry taken off the end) in the hole and let it rise. `last` was a
    /// leaf, so it seldom rises far: this makes one comparison a level fewer than sifting `last`
    /// down from the root, and the descent's exit does not depend on the keys.
    #[inline]
    fn refill_root(&mut self, last: Entry<E>) {
        let n = self.heap.len();
        assert!(n > 0);
        let heap = self.heap.as_mut_ptr();
        let mut i = 0;
        // SAFETY: `i` starts at 0 < n and only ever becomes a child index that was checked
        // to be < n (`first + ARITY <= n` for the four, `c < n` in the scan), so every access
        // is inside the heap's initialised length; `sift_up` gets an index < n.
        unsafe {
            loop {
                let first = i * ARITY + 1;
                if first + ARITY <= n {
                    // All four children: a branch-free pick (selects, not jumps), since which
                    // child is smallest is a coin toss the branch predictor cannot learn.
                    let kids = heap.add(first);
                    let (a, b) = ((*kids).key, (*kids.add(1)).key);
                    let (c, d) = ((*kids.add(2)).key, (*kids.add(3)).key);
                    let (ab, kab) = if b < a { (1, b) } else { (0, a) };
                    let (cd, kcd) = if d < c { (3, d) } else { (2, c) };
                    let pick = if kcd < kab { cd } else { ab };
                    *heap.add(i) = *kids.add(pick);
                    i = first + pick;
                } else {
                    if first < n {
                        let mut best = first;
                        for c in first + 1..n {
                            if (*heap.add(c)).key < (*heap.add(best)).key {
                                best = c;
                            }
                        }
                        *heap.add(i) = *heap.add(best);
                        i = best;
                    }
                    break;
                }
            }
            *heap.add(i) = last;
        }
        self.sift_up(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_scheduled_first_comes_before_its_ties() {
        let mut cal = Calendar::new();
        let line = cal.add_line();
        let slot = cal.add_slot();
        cal.schedule(Time(5), 1u32);
        cal.schedule_line(line, Time(5), 2);
        cal.set_slot(slot, Time(5), 3);
        cal.schedule(Time(4), 4);
        cal.schedule_first(Time(5), 0);
        let order: Vec<u32> = std::iter::from_fn(|| cal.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, [4, 0, 1, 2, 3]);
    }

    #[test]
    fn pops_in_time_then_schedule_order() {
        let mut cal = Calendar::new();
        let mut x: u64 = 12345;
        for i in 0..10_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            cal.schedule(Time(x >> 50), i);
        }
        cal.schedule(Time(7), 100_000);
        cal.schedule(Time(7), 100_001);
        let mut last = (Time::ZERO, 0u32);
        let mut n = 0;
        let mut seen_tie = false;
        while let Some((t, e)) = cal.pop() {
            assert!(t >= last.0);
            if e == 100_001 {
                assert!(seen_tie, "ties must pop in scheduling order");
            }
            if e == 100_000 {
                seen_tie = true;
            }
            last = (t, e);
            n += 1;
        }
        assert_eq!(n, 10_002);
        assert_eq!(cal.events_handled(), 10_002);
    }

    #[test]
    fn earliest_except_leaves_out_the_given_slots_only() {
        let mut cal = Calendar::new();
        let line = cal.add_line();
        let (a, b) = (cal.add_slot(), cal.add_slot());
        assert_eq!(cal.earliest_except(&[]), None);
        cal.set_slot(a, Time(5), 1u32);
        cal.set_slot(b, Time(7), 2);
        cal.schedule(Time(9), 3);
        cal.schedule_line(line, Time(8), 4);
        assert_eq!(cal.slot_time(a), Some(Time(5)));
        assert_eq!(cal.earliest_except(&[]), Some(Time(5)));
        assert_eq!(cal.earliest_except(&[a]), Some(Time(7)));
        assert_eq!(cal.earliest_except(&[a, b]), Some(Time(8)));
        cal.clear_slot(a);
        assert_eq!(cal.slot_time(a), None);
        assert_eq!(cal.earliest_except(&[b]), Some(Time(8)));
        assert_eq!(cal.pop(), Some((Time(7), 2)));
        assert_eq!(cal.pop(), Some((Time(8), 4)));
        assert_eq!(cal.earliest_except(&[a, b]), Some(Time(9)));
    }

    #[test]
    fn interleaved_schedules_and_pops_match_a_sorted_reference() {
        // Heaps of every size from 0 to a few hundred, with ties, against a BTreeSet of
        // (time, scheduling order).
        let mut cal = Calendar::new();
        let mut reference = std::collections::BTreeSet::new();
        let mut x: u64 = 7;
        let mut seq = 0u32;
        for step in 0..60_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Grow for a while, then shrink, then grow again.
            let push = match step / 20_000 {
                1 => x >> 62 == 0,
                _ => x >> 62 != 0,
            };
            if push || reference.is_empty() {
                let t = cal.now.0 + ((x >> 33) % 50);
                cal.schedule(Time(t), seq);
                reference.insert((t, seq));
                seq += 1;
            } else {
                let want = reference.pop_first().unwrap();
                let (t, e) = cal.pop().unwrap();
                assert_eq!((t.0, e), want, "step {step}");
            }
        }
        while let Some(want) = reference.pop_first() {
            let (t, e) = cal.pop().unwrap();
            assert_eq!((t.0, e), want);
        }
        assert!(cal.pop().is_none());
    }

    #[test]
    fn delay_lines_merge_with_the_heap_in_order() {
        let mut cal = Calendar::new();
        let a = cal.add_line();
        let b = cal.add_line();
        let mut x: u64 = 99;
        let mut expected = Vec::new();
        for i in 0..3000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let t = Time(u64::from(i) * 10 + (x >> 60));
            match i % 3 {
                0 => cal.schedule(Time(x >> 52), i),
                1 => cal.schedule_line(a, t, i),
                _ => cal.schedule_line(b, Time(u64::from(i) * 7), i),
            }
        }
        // An out-of-order line entry falls back to the heap.
        cal.schedule_line(a, Time(5), 7777);
        let mut last = Time::ZERO;
        while let Some((t, e)) = cal.pop() {
            assert!(t >= last, "time went backwards at {e}");
            last = t;
            expected.push(e);
        }
        assert_eq!(expected.len(), 3001);
    }

    #[test]
    fn slots_hold_one_event_each_and_merge_in_order() {
        let mut cal = Calendar::new();
        let a = cal.add_slot();
        let line = cal.add_line();
        let b = cal.add_slot();
        cal.schedule(Time(50), 1u32);
        cal.set_slot(a, Time(30), 2);
        cal.set_slot(a, Time(70), 3); // replaces 2: nothing stale is left
        cal.set_slot(b, Time(40), 4);
        cal.schedule_line(line, Time(45), 5);
        cal.set_slot(b, Time(60), 6);
        cal.clear_slot(b);
        cal.set_slot(b, Time(50), 7); // ties with the heap's 50: scheduled later, pops later
        assert_eq!(cal.len(), 4);
        let order: Vec<_> = std::iter::from_fn(|| cal.pop()).collect();
        assert_eq!(
            order,
            vec![(Time(45), 5), (Time(50), 1), (Time(50), 7), (Time(70), 3)]
        );
        assert_eq!(cal.peek_time(), None);
        assert!(cal.is_empty());
    }

    #[test]
    fn past_times_are_clamped_to_now() {
        let mut cal = Calendar::new();
        cal.schedule(Time(10), 1u8);
        cal.pop();
        cal.schedule(Time(3), 2u8);
        assert_eq!(cal.pop(), Some((Time(10), 2u8)));
    }
}
