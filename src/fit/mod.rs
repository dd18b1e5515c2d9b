//! `surge fit`: a starting model of a real site from its access logs (nginx, Apache) or the
//! results of its load tests (JMeter JTL in CSV or XML, k6, Locust, vegeta). The files are read once,
//! streaming (`input`, one module per format), into summaries of flat memory (`collect`); from
//! those come the arrivals per bucket and a profile (`arrivals`), maximum-likelihood service-time
//! fits (`dists`), the contention coefficient and the knee (`concurrency`); `report` gathers
//! them into fit.json, `model_toml` writes a runnable model; fit.png/.svg are drawn by `output::chart`.
//!
//! This module reads; it does not simulate. Exit codes and printing are `commands::fit`'s.

pub(crate) mod access_log;
pub(crate) mod arrivals;
pub(crate) mod capacity;
pub(crate) mod closed;
pub(crate) mod collect;
pub(crate) mod concurrency;
#[cfg(test)]
mod contention_tests;
pub(crate) mod dists;
pub(crate) mod extra_fields;
pub(crate) mod input;
pub(crate) mod jtl;
pub(crate) mod jtl_xml;
pub(crate) mod k6;
pub(crate) mod k6_json;
pub(crate) mod lines;
pub(crate) mod locust;
pub(crate) mod logs_doc;
pub(crate) mod logs_fit;
pub(crate) mod model_logs;
pub(crate) mod model_toml;
pub(crate) mod queue_fit;
pub(crate) mod refusals;
pub(crate) mod repairman;
pub(crate) mod report;
pub(crate) mod roundtrip;
pub(crate) mod sanity;
pub(crate) mod service_spec;
pub(crate) mod sessions;
pub(crate) mod sessions_fit;
pub(crate) mod spread;
pub(crate) mod surge;
#[cfg(test)]
pub(crate) mod synth;
pub(crate) mod timefmt;
pub(crate) mod toml_text;
pub(crate) mod vegeta;

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::fmt::human_count;
use crate::model::error::BadInput;
use access_log::AccessLog;
use collect::Collected;
use extra_fields::CombinedWithExtra;
use input::{FileReader, LineCounts, LineParser, Merged};

/// One request as a file records it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    /// When it arrived, seconds since 1970.
    pub start_s: f64,
    /// Its response time, seconds (NaN when the file does not say).
    pub time_s: f64,
    /// A success (status below 400, or the tool's own verdict).
    pub ok: bool,
    pub endpoint: u32,
    /// Concurrency the file records with it (JMeter allThreads, k6 VUs, Locust users), or NaN.
    pub concurrency: f32,
    /// Who asked, as an access log names it (`sessions::Visit`); all zero for other formats.
    pub visit: sessions::Visit,
    /// Whether a failure was the request turned away (the queue's evidence).
    pub refusal: refusals::Refusal,
}

/// Most endpoints told apart; requests to further paths count as `(other paths)`.
pub(crate) const MAX_ENDPOINTS: usize = 5_000;
pub(crate) const OTHER: &str = "(other paths)";

/// FNV-1a: endpoint names are short and this is hashed once a line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Endpoint names (path without query string, or the tool's label), interned.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    ids: HashMap<Box<str>, u32, std::hash::BuildHasherDefault<Fnv>>,
    names: Vec<Box<str>>,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            ids: HashMap::default(),
            names: vec![OTHER.into()],
        }
    }
}

impl Endpoints {
    pub(crate) fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.ids.get(name) {
            return i;
        }
        if self.names.len() > MAX_ENDPOINTS {
            return 0;
        }
        let i = self.names.len() as u32;
        self.names.push(name.into());
        self.ids.insert(name.into(), i);
        i
    }
    pub(crate) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

/// The formats `surge fit` reads.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Auto,
    Nginx,
    Apache,
    /// The Common Log Format: no response time.
    Clf,
    /// The combined log format: no response time.
    Combined,
    Jtl,
    K6,
    /// k6's `--out json` (one JSON object a line).
    K6json,
    Locust,
    Vegeta,
}

/// What `surge fit` was asked.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub format: Format,
    pub log_format: Option<String>,
    /// Whole seconds, at least 1.
    pub bucket_s: f64,
    /// Whether `--bucket` gave it (else the default, capped to the data's span).
    pub bucket_given: bool,
    /// Busiest endpoints fitted on their own.
    pub endpoints: usize,
    /// Threads x instances as the user knows them (`--threads`), else None: assumed.
    pub threads: Option<u32>,
    /// Inactivity that ends a session, seconds.
    pub session_gap_s: f64,
    /// Targets of asset requests (not pages) in access logs.
    pub assets: regex_lite::Regex,
    /// `--source`: for a load test, `requests` sets its recorded users aside (open arrivals)
    /// and `users` keeps them where the k6 executor looks open.
    pub source: Option<logs_doc::SourceKind>,
}

/// The default `--assets` pattern, compiled.
pub(crate) fn default_assets() -> regex_lite::Regex {
    regex_lite::Regex::new(access_log::DEFAULT_ASSETS).expect("the default assets pattern compiles")
}

/// Most unparsed lines tolerated, as a share of a file's lines.
pub(crate) const MAX_BAD_SHARE: f64 = 0.05;

/// One file as read.
#[derive(Debug, Clone)]
pub(crate) struct FileInfo {
    pub path: PathBuf,
    pub format: String,
    pub counts: LineCounts,
    pub zero_times: u64,
    pub notes: Vec<(String, f64)>,
    /// What the reader warns of how it read the file.
    pub warnings: Vec<String>,
}

/// The files read and their summaries.
pub(crate) struct Reading {
    pub files: Vec<FileInfo>,
    pub collected: Collected,
    pub endpoints: Endpoints,
    /// Whether the files record concurrency with each request.
    pub recorded_concurrency: bool,
    /// Visits and sessions (access logs that name their clients).
    pub visits: sessions::Visits,
    /// Whether the files record response times.
    pub timed: bool,
}

/// The parser for `path` under `opts` (auto: told from the first non-blank line).
fn parser_for(path: &Path, opts: &Options) -> Result<Box<dyn LineParser>, String> {
    let log_with = |p: AccessLog| p.with_assets(&opts.assets);
    let log = |p: AccessLog| -> Box<dyn LineParser> { Box::new(log_with(p)) };
    let access = |default: fn() -> AccessLog| -> Result<Box<dyn LineParser>, String> {
        match &opts.log_format {
            Some(f) => Ok(log(AccessLog::compile(f)?)),
            None => Ok(log(default())),
        }
    };
    match opts.format {
        Format::Nginx => return access(AccessLog::nginx_default),
        Format::Apache => return access(AccessLog::apache_default),
        Format::Clf | Format::Combined if opts.log_format.is_none() => {
            let first = first_lines(path)?.0;
            if let Some(x) = CombinedWithExtra::detect(&first, log_with(AccessLog::combined())) {
                return Ok(Box::new(x));
            }
            let plain = if opts.format == Format::Clf {
                AccessLog::clf()
            } else {
                AccessLog::combined()
            };
            return Ok(log(plain));
        }
        Format::Clf => return access(AccessLog::clf),
        Format::Combined => return access(AccessLog::combined),
        Format::Jtl => {
            return Ok(if first_lines(path)?.0.starts_with('<') {
                Box::new(jtl_xml::JtlXml::default())
            } else {
                Box::new(jtl::Jtl::default())
            });
        }
        Format::K6 => {
            return Ok(if k6_json::detect(&first_lines(path)?.0) {
                Box::new(k6_json::K6Json::default())
            } else {
                Box::new(k6::K6::default())
            });
        }
        Format::K6json => return Ok(Box::new(k6_json::K6Json::default())),
        Format::Locust => return Ok(Box::new(locust::Locust::default())),
        Format::Vegeta => return Ok(Box::new(vegeta::Vegeta::default())),
        Format::Auto => {}
    }
    if let Some(f) = &opts.log_format {
        return Ok(log(AccessLog::compile(f)?));
    }
    let (first, second) = first_lines(path)?;
    let line = first.as_str();
    if line.starts_with("<testResults")
        || (line.starts_with("<?xml")
            && (line.contains("<testResults") || second.starts_with("<testResults")))
    {
        return Ok(Box::new(jtl_xml::JtlXml::default()));
    }
    if line.starts_with("timeStamp") {
        return Ok(Box::new(jtl::Jtl::default()));
    }
    if line.starts_with("metric_name") {
        return Ok(Box::new(k6::K6::default()));
    }
    if k6_json::detect(line) {
        return Ok(Box::new(k6_json::K6Json::default()));
    }
    if line.contains("User Count") && line.contains("Timestamp") {
        return Ok(Box::new(locust::Locust::default()));
    }
    let first_field = line.split(',').next().unwrap_or("");
    if first_field.len() >= 16
        && first_field.bytes().all(|b| b.is_ascii_digit())
        && line.matches(',').count() >= 5
    {
        return Ok(Box::new(vegeta::Vegeta::default()));
    }
    let last = line.rsplit(' ').next().unwrap_or("");
    let (mut eps, mut out) = (Endpoints::default(), Vec::new());
    let mut to = input::Requests::new(&mut eps, &mut out);
    let mut nginx = AccessLog::nginx_default();
    let mut apache = AccessLog::apache_default();
    if last.contains('.') && nginx.parse(line, &mut to).is_ok() {
        return Ok(log(nginx));
    }
    // A proxy's log: both times at the end (before the plain formats, whose last field would
    // swallow them and leave the log without a response time).
    let mut upstream = AccessLog::nginx_upstream();
    if upstream.parse(line, &mut to).is_ok() {
        return Ok(log(upstream));
    }
    if apache.parse(line, &mut to).is_ok() {
        return Ok(log(apache));
    }
    if nginx.parse(line, &mut to).is_ok() {
        return Ok(log(nginx));
    }
    // The combined format with more fields after it: read, counted and warned of (CLF would
    // swallow them in its byte count, response time and all).
    if let Some(x) = CombinedWithExtra::detect(line, log_with(AccessLog::combined())) {
        return Ok(Box::new(x));
    }
    // Without a response time: combined first (the Common Log Format's last field, the byte
    // count, would swallow the combined format's referrer and user agent).
    for mut plain in [AccessLog::combined(), AccessLog::clf()] {
        if plain.parse(line, &mut to).is_ok() {
            return Ok(log(plain));
        }
    }
    let shown: String = line.chars().take(160).collect();
    Err(format!(
        "{}: cannot tell the format from its first line `{shown}`: it is not a JMeter JTL (CSV header or XML) or k6 CSV header or JSON line, a Locust stats history, vegeta CSV, or an nginx/Apache log line (combined followed by the request time, combined, or Common Log Format); give --format (and --log-format for another log layout)",
        path.display()
    ))
}

/// The first two non-blank lines of `path` (the second empty if there is none), trimmed and
/// without a byte-order mark: enough to tell its format.
fn first_lines(path: &Path) -> Result<(String, String), String> {
    let mut r = input::open(path)?;
    let mut found = Vec::with_capacity(2);
    let mut buf = Vec::new();
    while found.len() < 2 {
        buf.clear();
        // at most 64 KiB a line: a format is told by its first characters
        let n = (&mut r)
            .take(1 << 16)
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_start_matches('\u{feff}').trim();
        if !line.is_empty() {
            found.push(line.to_string());
        }
        if !buf.ends_with(b"\n") {
            // a line longer than 64 KiB: the rest of it is not needed
            break;
        }
    }
    let mut found = found.into_iter();
    match found.next() {
        Some(first) => Ok((first, found.next().unwrap_or_default())),
        None => Err(format!("{} is empty", path.display())),
    }
}

/// Refuse a file given twice, by the same path or another (a link, `./a` and `a`): its requests
/// would count twice. Files are told apart by device and inode where the system has them.
fn refuse_same_file(files: &[PathBuf]) -> Result<(), String> {
    let mut seen: Vec<((u64, u64), &PathBuf)> = Vec::new();
    for path in files {
        let Ok(meta) = std::fs::metadata(path) else {
            continue; // opening it says why
        };
        #[cfg(unix)]
        let id = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let id = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.clone())
                .hash(&mut h);
            (meta.len(), h.finish())
        };
        if let Some((_, first)) = seen.iter().find(|(s, _)| *s == id) {
            return Err(format!(
                "{} is the same file as {} (given twice, or through another path or a link): give each file once, or its requests count twice",
                path.display(),
                first.display()
            ));
        }
        seen.push((id, path));
    }
    Ok(())
}

/// Read every file, merged in time order, into summaries. Errors are bad input: a missing
/// file, an unknown format, or a file with more than 5% unparsed lines.
pub(crate) fn read(files: &[PathBuf], opts: &Options) -> Result<Reading, BadInput> {
    if files.is_empty() {
        return Err(BadInput("give at least one file to fit".into()));
    }
    refuse_same_file(files).map_err(BadInput)?;
    let mut readers = Vec::new();
    for path in files {
        let parser = parser_for(path, opts).map_err(BadInput)?;
        readers.push(FileReader::new(path, parser).map_err(BadInput)?);
    }
    let timed = readers.iter().all(|r| r.parser.timed());
    let mut merged = Merged::new(readers);
    let mut endpoints = Endpoints::default();
    let mut collected = Collected::default();
    let mut visits = sessions::Visits::new(opts.session_gap_s);
    let mut recorded_concurrency = false;
    // the first requests wait until the span is anchored on their median start
    let mut early = Vec::with_capacity(collect::ANCHOR_SAMPLE);
    loop {
        let next = merged.next_record(&mut endpoints).map_err(BadInput)?;
        if let Some(r) = next {
            recorded_concurrency |= r.concurrency.is_finite();
            if collected.anchor_s.is_none() {
                early.push(r);
                if early.len() < collect::ANCHOR_SAMPLE {
                    continue;
                }
            } else if collected.add(&r, &endpoints) {
                visits.add(&r);
            }
        }
        if collected.anchor_s.is_none() {
            collected.anchor_on(&early);
            for r in early.drain(..) {
                if collected.add(&r, &endpoints) {
                    visits.add(&r);
                }
            }
        }
        if next.is_none() {
            break;
        }
    }
    visits.finish();
    let mut infos = Vec::new();
    let mut open_because = Vec::new();
    for f in &merged.files {
        let c = &f.counts;
        let format = f.parser.format().name;
        if c.read > 0 && c.skipped as f64 > MAX_BAD_SHARE * c.read as f64 {
            let quoted: Vec<String> = c
                .bad
                .iter()
                .map(|(n, text, why)| format!("  line {n}: {why}: {text}"))
                .collect();
            return Err(BadInput(format!(
                "{}: {} of {} lines ({:.1}%) did not parse as {format} (at most {:.0}% may be skipped); the first:\n{}\ngive --format, or --log-format for another log layout",
                f.path.display(),
                c.skipped,
                c.read,
                100.0 * c.skipped as f64 / c.read as f64,
                MAX_BAD_SHARE * 100.0,
                quoted.join("\n")
            )));
        }
        if f.requests > 0 && f.failed == f.requests {
            return Err(BadInput(format!(
                "{}: every request failed ({} of {}: status 400 or above, or the tool's own error), read as {format}: no successful response to fit a service time to, and a model of this run would only fail; fit a run in which the site answered",
                f.path.display(),
                human_count(f.failed as f64),
                human_count(f.requests as f64),
            )));
        }
        let mut notes = f.parser.notes();
        if f.nul_bytes() > 0 {
            notes.push(("nul_bytes_dropped".into(), f.nul_bytes() as f64));
        }
        let mut warnings = f.parser.warnings();
        if format.starts_with("k6") && recorded_concurrency {
            let (open, w) = k6_executor(&notes, opts.source);
            if open {
                open_because.push(f.path.clone());
            }
            warnings.push(w);
        }
        let info = FileInfo {
            path: f.path.clone(),
            format,
            counts: c.clone(),
            zero_times: f.zero_times,
            notes,
            warnings,
        };
        let mean = f.ok_time_sum / f.ok_timed as f64;
        sanity::file(&info, f.timed, mean).map_err(BadInput)?;
        infos.push(info);
    }
    if !open_because.is_empty() || opts.source == Some(logs_doc::SourceKind::Requests) {
        // open arrivals: the VUs recorded are a pool, not the users in the loop
        recorded_concurrency = false;
    }
    if collected.requests == 0 {
        return Err(BadInput(format!(
            "no requests in {}",
            files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(Reading {
        files: infos,
        collected,
        endpoints,
        recorded_concurrency,
        visits,
        timed,
    })
}

/// Whether a k6 file's run was open (an arrival-rate executor) as the fit reads it, and what
/// the terminal says of it: k6 records no executor, so it is told from the VUs' time in
/// iterations and `dropped_iterations` (`k6::open_reason`), and `--source` overrides it.
fn k6_executor(notes: &[(String, f64)], source: Option<logs_doc::SourceKind>) -> (bool, String) {
    use logs_doc::SourceKind;
    let busy = notes
        .iter()
        .find(|(n, _)| n == k6::BUSY_NOTE)
        .map(|(_, v)| *v);
    match (k6::open_reason(notes), source) {
        (Some(why), Some(SourceKind::Users)) => (
            false,
            format!("k6 records no executor; the run looks open ({why}), but --source users keeps it a closed test of its VUs"),
        ),
        (Some(why), _) => (
            true,
            format!("k6 records no executor; read as open arrivals (the VUs are a pool, not users in a loop): {why}; --source users fits a closed test of the VUs instead"),
        ),
        (None, Some(SourceKind::Requests)) => (
            true,
            "k6 records no executor; --source requests: read as open arrivals, the VUs set aside".into(),
        ),
        (None, _) => (
            false,
            match busy {
                Some(b) => format!("k6 records no executor; read as a closed test of its VUs: they spent {:.0}% of their time in iterations, as a closed executor's do (an arrival-rate executor's idle between iterations); --source requests fits open arrivals instead", 100.0 * b),
                None => "k6 records no executor and this file has no `iteration_duration` or `vus` to tell it by: ASSUMED a closed test of its VUs; --source requests fits open arrivals instead".into(),
            },
        ),
    }
}

/// The files of one `surge fit` as read: the traffic (arrivals, endpoints, sessions) and,
/// where some files record response times and others do not, the timed ones apart (the service
/// time and contention come from them).
pub(crate) struct Readings {
    pub traffic: Reading,
    pub timing: Option<Reading>,
}

/// Read the files; files without response times (CLF, combined) and files with them given
/// together are read as two groups: the traffic from the first, the timing from the second.
pub(crate) fn read_all(files: &[PathBuf], opts: &Options) -> Result<Readings, BadInput> {
    let mut untimed = Vec::new();
    let mut timed = Vec::new();
    for path in files {
        let parser = parser_for(path, opts).map_err(BadInput)?;
        if parser.timed() {
            timed.push(path.clone());
        } else {
            untimed.push(path.clone());
        }
    }
    if untimed.is_empty() || timed.is_empty() {
        return Ok(Readings {
            traffic: read(files, opts)?,
            timing: None,
        });
    }
    Ok(Readings {
        traffic: read(&untimed, opts)?,
        timing: Some(read(&timed, opts)?),
    })
}
