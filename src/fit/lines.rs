//! Lines of a file for `surge fit`, with bounded memory whatever the file holds: a line keeps at
//! most [`MAX_LINE_BYTES`] (the rest of a longer one is read past and counted, never stored),
//! and NUL bytes are dropped and counted, so the hole of NULs that a `copytruncate` log rotation
//! leaves at the head of a log (gigabytes, with no newline) costs neither memory nor the line
//! after it.
//!
//! What a line means is the caller's business; this only splits bytes.

use std::io::{self, BufRead};

/// Longest line kept, bytes (NULs not counted). JMeter XML can hold a response body on one line.
pub(crate) const MAX_LINE_BYTES: usize = 16 << 20;

/// A source of lines.
pub(crate) struct Lines {
    input: Box<dyn BufRead>,
    /// NUL bytes dropped so far.
    pub(crate) nul_bytes: u64,
}

impl Lines {
    pub(crate) fn new(input: Box<dyn BufRead>) -> Lines {
        Lines {
            input,
            nul_bytes: 0,
        }
    }

    /// The next line into `buf` (cleared first, newline kept), NULs dropped. `None` at the end;
    /// else how many bytes of the line were past [`MAX_LINE_BYTES`] and not kept.
    pub(crate) fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<u64>> {
        buf.clear();
        let mut over = 0u64;
        let mut any = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(any.then_some(over));
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let mut part = &chunk[..take];
            while !part.is_empty() {
                let run = memchr::memchr(0, part).unwrap_or(part.len());
                let room = MAX_LINE_BYTES.saturating_sub(buf.len());
                let keep = run.min(room);
                buf.extend_from_slice(&part[..keep]);
                over += (run - keep) as u64;
                part = &part[run..];
                let nuls = zeros(part);
                self.nul_bytes += nuls as u64;
                part = &part[nuls..];
            }
            self.input.consume(take);
            if done {
                return Ok(Some(over));
            }
        }
    }
}

/// How many bytes at the start of `s` are 0 (16 at a time where it can).
fn zeros(s: &[u8]) -> usize {
    let mut n = 0;
    for c in s.chunks_exact(16) {
        if c.iter().any(|&b| b != 0) {
            break;
        }
        n += 16;
    }
    n + s[n..].iter().take_while(|&&b| b == 0).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> (Vec<(Vec<u8>, u64)>, u64) {
        let mut l = Lines::new(Box::new(io::BufReader::with_capacity(
            7,
            bytes.to_vec().leak() as &[u8],
        )));
        let (mut out, mut buf) = (Vec::new(), Vec::new());
        while let Some(over) = l.next(&mut buf).unwrap() {
            out.push((buf.clone(), over));
        }
        (out, l.nul_bytes)
    }

    #[test]
    fn nuls_are_dropped_and_counted_and_lines_split() {
        let mut bytes = vec![0u8; 100];
        bytes.extend_from_slice(b"a,b\nc\0d\n\ne");
        let (lines, nuls) = all(&bytes);
        assert_eq!(nuls, 101);
        let got: Vec<&[u8]> = lines.iter().map(|(l, _)| l.as_slice()).collect();
        assert_eq!(got, vec![&b"a,b\n"[..], b"cd\n", b"\n", b"e"]);
        assert!(lines.iter().all(|(_, over)| *over == 0));
    }

    #[test]
    fn zeros_counts_the_leading_run() {
        assert_eq!(zeros(&[0; 40]), 40);
        let mut v = vec![0u8; 37];
        v.push(1);
        v.extend_from_slice(&[0; 20]);
        assert_eq!(zeros(&v), 37);
        assert_eq!(zeros(b"x"), 0);
    }
}
