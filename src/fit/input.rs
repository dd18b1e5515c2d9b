//! Reading the files of `surge fit`: plain or gzip (told by the first two bytes, so rotated logs
//! such as `access.log.2.gz` need no flag), one line at a time into a reused buffer, each line
//! handed to its format's [`LineParser`]; lines that do not parse are counted and the first few
//! kept with their numbers. [`Merged`] then yields the requests of several files in time order
//! (a k-way merge on each file's next request). Memory is one buffer per file, whatever the
//! length of the logs.
//!
//! What a line means is the business of the format modules (`access_log`, `jtl`, `k6`,
//! `locust`, `vegeta`), not of this file.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::lines::{Lines, MAX_LINE_BYTES};
use super::{Endpoints, Record, sanity};

/// Bad lines quoted in an error or in fit.json.
pub(crate) const QUOTED_BAD_LINES: usize = 5;

/// A format's reader of one line: push the requests it holds (none for a line that holds no
/// request, such as a k6 `vus` sample), or say why it does not parse.
pub(crate) trait LineParser {
    /// The format's name in messages, e.g. `nginx (combined followed by $request_time)`, and
    /// the smallest time step it records.
    fn format(&self) -> FormatInfo;
    /// Whether this line is the header (CSV formats read their column names from it).
    fn header(&mut self, _line: &str) -> Result<bool, String> {
        Ok(false)
    }
    fn parse(&mut self, line: &str, to: &mut Requests) -> Result<(), String>;
    /// Extra figures the format carries (k6: the mean of `http_req_waiting`), for fit.json.
    fn notes(&self) -> Vec<(String, f64)> {
        Vec::new()
    }
    /// What the user must hear about how the file was read (fields read as absent, say).
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }
    /// Whether the format records response times (an access log without `$request_time` or
    /// `%D` does not: its service time comes from elsewhere).
    fn timed(&self) -> bool {
        true
    }
}

/// What a reader says of its format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FormatInfo {
    /// Its name in messages.
    pub name: String,
    /// Smallest time step the format records, seconds (a zero time is read as half of it).
    pub resolution_s: f64,
}

impl FormatInfo {
    pub(crate) fn new(name: impl Into<String>, resolution_s: f64) -> FormatInfo {
        FormatInfo {
            name: name.into(),
            resolution_s,
        }
    }
}

/// Where a reader puts the requests of a line: their records, their endpoints named in
/// `endpoints`.
pub(crate) struct Requests<'a> {
    pub endpoints: &'a mut Endpoints,
    pub records: &'a mut Vec<Record>,
}

impl<'a> Requests<'a> {
    pub(crate) fn new(endpoints: &'a mut Endpoints, records: &'a mut Vec<Record>) -> Requests<'a> {
        Requests { endpoints, records }
    }

    /// A request of the endpoint `label`: started at `start_s`, answered (or failed) after
    /// `time_s`, with `concurrency` in flight where the format records it (else NaN). Its record
    /// is returned, for a reader that knows who asked (an access log sets its `visit`).
    pub(crate) fn push(
        &mut self,
        label: &str,
        start_s: f64,
        time_s: f64,
        ok: bool,
        concurrency: f32,
    ) -> &mut Record {
        let endpoint = self.endpoints.id(label);
        self.records.push(Record {
            start_s,
            time_s,
            ok,
            endpoint,
            concurrency,
            visit: Default::default(),
            refusal: Default::default(),
        });
        let last = self.records.len() - 1;
        &mut self.records[last]
    }
}

/// Open `path` for reading, decompressing gzip.
pub(crate) fn open(path: &Path) -> Result<Box<dyn BufRead>, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "cannot read {}: it is not a regular file",
            path.display()
        ));
    }
    let mut f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut magic = [0u8; 2];
    let n = f
        .read(&mut magic)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::with_capacity(
            1 << 18,
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, f)),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(1 << 18, f)))
    }
}

/// Line counts of one file.
#[derive(Debug, Clone, Default)]
pub(crate) struct LineCounts {
    /// Data lines read (not the header, not blank lines).
    pub read: u64,
    pub parsed: u64,
    pub skipped: u64,
    /// The first few bad lines: (line number, text, why).
    pub bad: Vec<(u64, String, String)>,
}

/// One file being read: its lines through its parser, its requests buffered one line at a time.
pub(crate) struct FileReader {
    pub path: PathBuf,
    input: Lines,
    pub parser: Box<dyn LineParser>,
    pub counts: LineCounts,
    line_no: u64,
    buf: Vec<u8>,
    pending: VecDeque<Record>,
    scratch: Vec<Record>,
    seen_data: bool,
    zero_time: f64,
    /// Requests whose time was recorded as 0 (read as half the resolution).
    pub zero_times: u64,
    /// Requests with a response time (0 included).
    pub timed: u64,
    /// Sum and count of the response times of successful requests, seconds.
    pub ok_time_sum: f64,
    pub ok_timed: u64,
    /// Requests read, and those that failed (status 400 or above, or the tool's own error).
    pub requests: u64,
    pub failed: u64,
    done: bool,
}

impl FileReader {
    pub(crate) fn new(path: &Path, parser: Box<dyn LineParser>) -> Result<FileReader, String> {
        let zero_time = parser.format().resolution_s / 2.0;
        Ok(FileReader {
            path: path.to_path_buf(),
            input: Lines::new(open(path)?),
            parser,
            counts: LineCounts::default(),
            line_no: 0,
            buf: Vec::with_capacity(1024),
            pending: VecDeque::new(),
            scratch: Vec::new(),
            seen_data: false,
            zero_time,
            zero_times: 0,
            timed: 0,
            ok_time_sum: 0.0,
            ok_timed: 0,
            requests: 0,
            failed: 0,
            done: false,
        })
    }

    /// The next request of this file, in the file's order; `Err` on a read error.
    pub(crate) fn next_record(
        &mut self,
        endpoints: &mut Endpoints,
    ) -> Result<Option<Record>, String> {
        loop {
            if let Some(r) = self.pending.pop_front() {
                return Ok(Some(r));
            }
            if self.done {
                return Ok(None);
            }
            let over = self
                .input
                .next(&mut self.buf)
                .map_err(|e| format!("{}: line {}: {e}", self.path.display(), self.line_no + 1))?;
            let Some(over) = over else {
                self.done = true;
                continue;
            };
            self.line_no += 1;
            if over > 0 {
                let text =
                    String::from_utf8_lossy(&self.buf[..self.buf.len().min(200)]).into_owned();
                self.counts.read += 1;
                let len = self.buf.len() as u64 + over;
                self.bad(
                    text,
                    format!("a line of {len} bytes, longer than the {MAX_LINE_BYTES} a line may have: skipped"),
                );
                continue;
            }
            let mut end = self.buf.len();
            while end > 0 && (self.buf[end - 1] == b'\n' || self.buf[end - 1] == b'\r') {
                end -= 1;
            }
            let bytes = &self.buf[..end];
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = match std::str::from_utf8(bytes) {
                Ok(s) => s,
                Err(_) => {
                    let text = String::from_utf8_lossy(bytes).into_owned();
                    self.counts.read += 1;
                    self.bad(text, "not UTF-8 text".into());
                    continue;
                }
            };
            if !self.seen_data {
                self.seen_data = true;
                match self.parser.header(line) {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => {
                        return Err(format!("{}:{}: {e}", self.path.display(), self.line_no));
                    }
                }
            }
            self.counts.read += 1;
            self.scratch.clear();
            match self
                .parser
                .parse(line, &mut Requests::new(endpoints, &mut self.scratch))
            {
                Ok(()) => {
                    if let Some(why) = self.scratch.iter().find_map(|r| sanity::record(r).err()) {
                        let text = line.to_string();
                        self.bad(text, why);
                        continue;
                    }
                    self.counts.parsed += 1;
                    for mut r in self.scratch.drain(..) {
                        self.timed += u64::from(r.time_s.is_finite());
                        self.requests += 1;
                        self.failed += u64::from(!r.ok);
                        if r.ok && r.time_s.is_finite() {
                            self.ok_time_sum += r.time_s;
                            self.ok_timed += 1;
                        }
                        if r.time_s == 0.0 {
                            r.time_s = self.zero_time;
                            self.zero_times += 1;
                        }
                        self.pending.push_back(r);
                    }
                }
                Err(why) => {
                    let text = line.to_string();
                    self.bad(text, why);
                }
            }
        }
    }

    /// NUL bytes dropped from this file (a `copytruncate` hole).
    pub(crate) fn nul_bytes(&self) -> u64 {
        self.input.nul_bytes
    }

    fn bad(&mut self, text: String, why: String) {
        self.counts.skipped += 1;
        if self.counts.bad.len() < QUOTED_BAD_LINES {
            let mut text = text;
            if text.len() > 200 {
                let mut cut = 200;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push_str("...");
            }
            self.counts.bad.push((self.line_no, text, why));
        }
    }
}

/// The next request of one file, ordered for the merge (earliest start first).
struct Head {
    start_s: f64,
    file: usize,
    record: Record,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse, so the earliest comes out first.
        other
            .start_s
            .total_cmp(&self.start_s)
            .then(other.file.cmp(&self.file))
    }
}

/// The requests of several files merged in time order.
pub(crate) struct Merged {
    pub files: Vec<FileReader>,
    heap: BinaryHeap<Head>,
    started: bool,
}

impl Merged {
    pub(crate) fn new(files: Vec<FileReader>) -> Merged {
        Merged {
            files,
            heap: BinaryHeap::new(),
            started: false,
        }
    }

    pub(crate) fn next_record(
        &mut self,
        endpoints: &mut Endpoints,
    ) -> Result<Option<Record>, String> {
        if self.files.len() == 1 {
            return self.files[0].next_record(endpoints);
        }
        if !self.started {
            self.started = true;
            for i in 0..self.files.len() {
                self.refill(i, endpoints)?;
            }
        }
        let Some(head) = self.heap.pop() else {
            return Ok(None);
        };
        self.refill(head.file, endpoints)?;
        Ok(Some(head.record))
    }

    fn refill(&mut self, file: usize, endpoints: &mut Endpoints) -> Result<(), String> {
        if let Some(record) = self.files[file].next_record(endpoints)? {
            self.heap.push(Head {
                start_s: record.start_s,
                file,
                record,
            });
        }
        Ok(())
    }
}

/// Column `name` in a header's fields (case and surrounding blanks ignored).
fn column(cols: &[&str], name: &str) -> Option<usize> {
    cols.iter()
        .position(|c| c.trim().eq_ignore_ascii_case(name))
}

/// A CSV header line's column names, for a reader to find its columns in. `what` names the
/// header in errors ("a JTL header"), `hint` follows a missing column's name.
pub(crate) struct Header<'l> {
    line: &'l str,
    cols: Vec<&'l str>,
    what: &'static str,
    hint: &'static str,
}

impl<'l> Header<'l> {
    pub(crate) fn of(line: &'l str, what: &'static str, hint: &'static str) -> Header<'l> {
        Header::separated(line, b',', what, hint)
    }

    /// A header whose fields are separated by `sep` (a JMeter CSV may use `;` or a tab).
    pub(crate) fn separated(
        line: &'l str,
        sep: u8,
        what: &'static str,
        hint: &'static str,
    ) -> Header<'l> {
        let mut fields = Vec::new();
        split_by(line, sep, &mut fields);
        Header {
            line,
            cols: fields.iter().map(|&(s, e)| &line[s..e]).collect(),
            what,
            hint,
        }
    }

    /// The column `name`, if the header has it.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        column(&self.cols, name)
    }

    /// The column `name`, which the header must have: the error says `{what} needs a `name`
    /// column{hint}; got `line``.
    pub(crate) fn need(&self, name: &str) -> Result<usize, String> {
        self.find(name).ok_or_else(|| {
            format!(
                "{} needs a `{name}` column{}; got `{}`",
                self.what, self.hint, self.line
            )
        })
    }

    /// How many columns it names.
    pub(crate) fn width(&self) -> usize {
        self.cols.len()
    }
}

/// Field `i` of `line` as `split_csv` split it (empty where the line has fewer fields).
pub(crate) fn field<'l>(line: &'l str, fields: &[(usize, usize)], i: usize) -> &'l str {
    fields.get(i).map_or("", |&(s, e)| &line[s..e])
}

/// Split one CSV row of a file with a header into `out` (as `split_csv`), which must have as
/// many fields as the header has columns (`width`).
pub(crate) fn split_row(
    line: &str,
    out: &mut Vec<(usize, usize)>,
    width: usize,
) -> Result<(), String> {
    split_row_by(line, b',', out, width)
}

/// `split_row` with fields separated by `sep`.
pub(crate) fn split_row_by(
    line: &str,
    sep: u8,
    out: &mut Vec<(usize, usize)>,
    width: usize,
) -> Result<(), String> {
    split_by(line, sep, out);
    if out.len() != width {
        return Err(format!(
            "{} fields where the header has {}",
            out.len(),
            width
        ));
    }
    Ok(())
}

/// Split one CSV line into fields (double quotes around a field, `""` inside it), into `out`
/// as byte ranges of `line` without the quotes (a quoted field's `""` stays doubled: the fields
/// read by number never hold quotes).
pub(crate) fn split_csv(line: &str, out: &mut Vec<(usize, usize)>) {
    split_by(line, b',', out);
}

/// `split_csv` with fields separated by `sep` rather than a comma.
pub(crate) fn split_by(line: &str, sep: u8, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        if i < b.len() && b[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            while j < b.len() {
                if b[j] == b'"' {
                    if j + 1 < b.len() && b[j + 1] == b'"' {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            out.push((start, j.min(b.len())));
            // skip the closing quote and anything up to the comma
            let mut k = (j + 1).min(b.len());
            while k < b.len() && b[k] != sep {
                k += 1;
            }
            if k >= b.len() {
                return;
            }
            i = k + 1;
        } else {
            let start = i;
            let mut j = i;
            while j < b.len() && b[j] != sep {
                j += 1;
            }
            out.push((start, j));
            if j >= b.len() {
                return;
            }
            i = j + 1;
        }
    }
}

/// The path of a URL or request target, without scheme, host or query string.
pub(crate) fn path_of(target: &str) -> &str {
    let mut t = target;
    if !t.starts_with('/')
        && let Some(p) = t.find("://")
    {
        t = &t[p + 3..];
        t = t.find('/').map_or("/", |s| &t[s..]);
    }
    let end = t
        .bytes()
        .position(|c| c == b'?' || c == b'#')
        .unwrap_or(t.len());
    let p = &t[..end];
    if p.is_empty() { "/" } else { p }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_quotes() {
        let mut f = Vec::new();
        let line = r#"1,"a,b",,"x""y",z"#;
        split_csv(line, &mut f);
        let got: Vec<&str> = f.iter().map(|&(s, e)| &line[s..e]).collect();
        assert_eq!(got, vec!["1", "a,b", "", "x\"\"y", "z"]);
    }

    #[test]
    fn paths() {
        assert_eq!(path_of("http://h:8080/a/b?x=1"), "/a/b");
        assert_eq!(path_of("/a?x"), "/a");
        assert_eq!(path_of("https://h"), "/");
    }
}
