//! nginx and Apache access logs: a log format, in nginx variable syntax
//! (`$remote_addr - $remote_user [$time_local] "$request" ... $request_time`) or Apache's
//! (`%h %l %u %t "%r" %>s %b ... %D`), compiled into literals and fields; a line is matched
//! left to right, each field running up to the next literal. The defaults are the combined
//! format followed by the request time (`$request_time` in seconds for nginx, `%D` in
//! microseconds for Apache).
//!
//! Times: nginx logs when a request ends (`$time_local`, `$time_iso8601`, `$msec`), Apache when
//! it arrived (`%t`); the start of an nginx request is its end less its request time.
//! `$upstream_response_time` may be a comma list (one per upstream tried): the times are added.

use super::input::{FormatInfo, LineParser, Requests, path_of};
use super::timefmt::{parse_clf, parse_iso};

pub const NGINX_DEFAULT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#;
pub const APACHE_DEFAULT: &str = r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i" %D"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Nginx,
    Apache,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    /// `[$time_local]`-style clock, at the end of the request (nginx).
    ClockEnd,
    IsoEnd,
    MsecEnd,
    /// `%t`: the clock when the request arrived (Apache), with its brackets.
    ClockStart,
    Request,
    Path,
    Status,
    /// Response time in this many seconds per unit.
    Duration(f64),
    /// `$upstream_response_time`: a comma list of seconds.
    Upstream,
    Skip,
}

#[derive(Debug, Clone)]
enum Tok {
    Lit(String),
    Field(Field),
}

/// A compiled access-log format.
#[derive(Debug, Clone)]
pub struct AccessLog {
    pub flavour: Flavour,
    text: String,
    toks: Vec<Tok>,
    resolution: f64,
    /// The last clock field read and its value (consecutive lines share their second).
    cache: (String, f64),
}

impl AccessLog {
    pub fn nginx_default() -> AccessLog {
        AccessLog::compile(NGINX_DEFAULT).expect("the default nginx format compiles")
    }
    pub fn apache_default() -> AccessLog {
        AccessLog::compile(APACHE_DEFAULT).expect("the default Apache format compiles")
    }

    /// Compile a format; nginx syntax when it holds `$`, else Apache's.
    pub fn compile(format: &str) -> Result<AccessLog, String> {
        let flavour = if format.contains('$') {
            Flavour::Nginx
        } else if format.contains('%') {
            Flavour::Apache
        } else {
            return Err(format!(
                "log format `{format}` names no field: expected nginx variables ($time_local, $request, $status, $request_time) or Apache directives (%t, %r, %>s, %D)"
            ));
        };
        let b = format.as_bytes();
        let mut toks: Vec<Tok> = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        let mut resolution = 1e-3;
        while i < b.len() {
            let c = b[i];
            let field = if flavour == Flavour::Nginx && c == b'$' {
                let braced = b.get(i + 1) == Some(&b'{');
                let start = if braced { i + 2 } else { i + 1 };
                let mut j = start;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                if j == start {
                    return Err(format!(
                        "log format: `$` at column {} names no variable",
                        i + 1
                    ));
                }
                let name = &format[start..j];
                i = if braced { j + 1 } else { j };
                Some(match name {
                    "time_local" => Field::ClockEnd,
                    "time_iso8601" => Field::IsoEnd,
                    "msec" => Field::MsecEnd,
                    "request" => Field::Request,
                    "request_uri" | "uri" => Field::Path,
                    "status" => Field::Status,
                    "request_time" => Field::Duration(1.0),
                    "upstream_response_time" => Field::Upstream,
                    _ => Field::Skip,
                })
            } else if flavour == Flavour::Apache && c == b'%' {
                let mut j = i + 1;
                if b.get(j) == Some(&b'%') {
                    lit.push('%');
                    i = j + 1;
                    continue;
                }
                let mut last = false;
                while j < b.len() && (b[j] == b'<' || b[j] == b'>') {
                    last = b[j] == b'>';
                    j += 1;
                }
                let mut arg = "";
                if b.get(j) == Some(&b'{') {
                    let close = format[j..].find('}').ok_or_else(|| {
                        format!("log format: `{{` at column {} is not closed", j + 1)
                    })?;
                    arg = &format[j + 1..j + close];
                    j += close + 1;
                }
                let Some(&d) = b.get(j) else {
                    return Err("log format ends in `%`".into());
                };
                i = j + 1;
                let _ = last;
                Some(match (d, arg) {
                    (b't', "") => Field::ClockStart,
                    (b't', _) => {
                        return Err(format!(
                            "log format: %{{{arg}}}t (a custom time format) is not supported; use %t"
                        ));
                    }
                    (b'r', _) => Field::Request,
                    (b'U', _) => Field::Path,
                    (b's', _) => Field::Status,
                    (b'D', _) => {
                        resolution = 1e-6;
                        Field::Duration(1e-6)
                    }
                    (b'T', "" | "s") => {
                        resolution = 1.0;
                        Field::Duration(1.0)
                    }
                    (b'T', "ms") => Field::Duration(1e-3),
                    (b'T', "us") => {
                        resolution = 1e-6;
                        Field::Duration(1e-6)
                    }
                    _ => Field::Skip,
                })
            } else {
                lit.push(c as char);
                i += 1;
                None
            };
            if let Some(f) = field {
                if !lit.is_empty() {
                    toks.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                if matches!(toks.last(), Some(Tok::Field(_))) {
                    return Err(format!(
                        "log format `{format}`: two fields with nothing between them cannot be told apart"
                    ));
                }
                toks.push(Tok::Field(f));
            }
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        let has = |f: fn(&Field) -> bool| toks.iter().any(|t| matches!(t, Tok::Field(x) if f(x)));
        if !has(|f| {
            matches!(
                f,
                Field::ClockEnd | Field::IsoEnd | Field::MsecEnd | Field::ClockStart
            )
        }) {
            return Err(format!(
                "log format `{format}` has no time field (nginx $time_local, $time_iso8601 or $msec; Apache %t)"
            ));
        }
        if !has(|f| matches!(f, Field::Duration(_) | Field::Upstream)) {
            return Err(format!(
                "log format `{format}` has no response time (nginx $request_time or $upstream_response_time; Apache %D or %T)"
            ));
        }
        Ok(AccessLog {
            flavour,
            text: format.to_string(),
            toks,
            resolution,
            cache: (String::new(), 0.0),
        })
    }

    fn clock(&mut self, s: &str) -> Option<f64> {
        if s == self.cache.0 {
            return Some(self.cache.1);
        }
        let v = parse_clf(s)?;
        self.cache.0.clear();
        self.cache.0.push_str(s);
        self.cache.1 = v;
        Some(v)
    }
}

/// Whether `hay` holds `lit` at `at` (a byte loop: the literals are a few bytes long).
#[inline]
fn holds(hay: &[u8], at: usize, lit: &[u8]) -> bool {
    hay.len() >= at + lit.len() && hay[at..at + lit.len()].iter().zip(lit).all(|(a, b)| a == b)
}

fn find(hay: &[u8], from: usize, lit: &[u8]) -> Option<usize> {
    let first = lit[0];
    let mut i = from;
    while i < hay.len() {
        let p = hay[i..].iter().position(|&c| c == first)? + i;
        if holds(hay, p, lit) {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

/// `s` without ASCII blanks at either end.
#[inline]
fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c == ' ' || c == '\t')
}

impl LineParser for AccessLog {
    fn format(&self) -> FormatInfo {
        let name = match self.flavour {
            Flavour::Nginx => "nginx",
            Flavour::Apache => "apache",
        };
        let name = if self.text == NGINX_DEFAULT {
            "nginx (combined followed by $request_time)".into()
        } else if self.text == APACHE_DEFAULT {
            "apache (combined followed by %D)".into()
        } else {
            format!("{name} log format `{}`", self.text)
        };
        FormatInfo::new(name, self.resolution)
    }

    fn parse(&mut self, line: &str, to: &mut Requests) -> Result<(), String> {
        let b = line.as_bytes();
        let mut pos = 0;
        let (mut end_s, mut start_s, mut time_s, mut upstream) = (None, None, None, None);
        let mut status: Option<u16> = None;
        let mut path: Option<&str> = None;
        let n = self.toks.len();
        for k in 0..n {
            match &self.toks[k] {
                Tok::Lit(l) => {
                    if !holds(b, pos, l.as_bytes()) {
                        return Err(format!("expected `{l}` at column {}", pos + 1));
                    }
                    pos += l.len();
                }
                Tok::Field(f) => {
                    let f = *f;
                    let end = match self.toks.get(k + 1) {
                        Some(Tok::Lit(l)) => find(b, pos, l.as_bytes())
                            .ok_or_else(|| format!("expected `{l}` after column {}", pos + 1))?,
                        _ => b.len(),
                    };
                    let v = trim(&line[pos..end]);
                    let bad = |what: &str| format!("{what} `{v}` at column {}", pos + 1);
                    match f {
                        Field::Skip => {}
                        Field::ClockEnd => {
                            end_s = Some(self.clock(v).ok_or_else(|| bad("bad time"))?)
                        }
                        Field::ClockStart => {
                            let inner = v
                                .strip_prefix('[')
                                .and_then(|x| x.strip_suffix(']'))
                                .unwrap_or(v);
                            start_s = Some(self.clock(inner).ok_or_else(|| bad("bad time"))?);
                        }
                        Field::IsoEnd => end_s = Some(parse_iso(v).ok_or_else(|| bad("bad time"))?),
                        Field::MsecEnd => {
                            end_s = Some(
                                v.parse::<f64>()
                                    .ok()
                                    .filter(|x| x.is_finite())
                                    .ok_or_else(|| bad("bad time"))?,
                            );
                        }
                        Field::Request => {
                            // METHOD TARGET PROTOCOL; "-" for a request that never came.
                            let target = v.find(' ').map_or("-", |i| {
                                let rest = &v[i + 1..];
                                &rest[..rest.find(' ').unwrap_or(rest.len())]
                            });
                            path = Some(path_of(target));
                        }
                        Field::Path => path = Some(path_of(v)),
                        Field::Status => {
                            status = Some(v.parse::<u16>().map_err(|_| bad("bad status"))?);
                        }
                        Field::Duration(unit) => {
                            if v != "-" {
                                let x: f64 = v.parse().map_err(|_| bad("bad response time"))?;
                                if !(x >= 0.0 && x.is_finite()) {
                                    return Err(bad("bad response time"));
                                }
                                time_s = Some(x * unit);
                            }
                        }
                        Field::Upstream => {
                            if v != "-" {
                                let mut sum = 0.0;
                                for part in v.split([',', ':']) {
                                    let p = part.trim();
                                    if p == "-" || p.is_empty() {
                                        continue;
                                    }
                                    let x: f64 = p.parse().map_err(|_| bad("bad upstream time"))?;
                                    sum += x;
                                }
                                upstream = Some(sum);
                            }
                        }
                    }
                    pos = end;
                }
            }
        }
        if pos < b.len() && !line[pos..].trim().is_empty() {
            return Err(format!("unexpected text after column {}", pos));
        }
        let time = time_s.or(upstream);
        let start = match (start_s, end_s) {
            (Some(s), _) => s,
            (None, Some(e)) => e - time.unwrap_or(0.0),
            (None, None) => return Err("no time".into()),
        };
        let ok = status.is_none_or(|s| s < 400);
        let label = path.unwrap_or("(all)");
        to.push(label, start, time.unwrap_or(f64::NAN), ok, f32::NAN);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::Endpoints;

    #[test]
    fn default_nginx_line() {
        let mut p = AccessLog::nginx_default();
        let mut eps = Endpoints::default();
        let mut out = Vec::new();
        let line = r#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a/b?x=1 HTTP/1.1" 200 2326 "http://x/" "Mozilla/5.0 (X11; Linux)" 0.125"#;
        p.parse(line, &mut Requests::new(&mut eps, &mut out))
            .unwrap();
        assert_eq!(out[0].time_s, 0.125);
        assert_eq!(out[0].start_s, 971_211_336.0 - 0.125);
        assert_eq!(eps.name(out[0].endpoint), "/a/b");
        assert!(out[0].ok);
    }

    #[test]
    fn custom_formats() {
        let mut p =
            AccessLog::compile("$msec $status $request_uri $upstream_response_time").unwrap();
        let mut eps = Endpoints::default();
        let mut out = Vec::new();
        p.parse(
            "1000.5 503 /x?y 0.100, 0.050",
            &mut Requests::new(&mut eps, &mut out),
        )
        .unwrap();
        assert!((out[0].time_s - 0.15).abs() < 1e-12);
        assert!(!out[0].ok);
        let mut a = AccessLog::compile(r#"%h %t "%r" %>s %{ms}T"#).unwrap();
        a.parse(
            r#"h [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 12"#,
            &mut Requests::new(&mut eps, &mut out),
        )
        .unwrap();
        assert_eq!(out[1].start_s, 971_211_336.0);
        assert!((out[1].time_s - 0.012).abs() < 1e-12);
        assert!(AccessLog::compile("$status$request_time").is_err());
        assert!(AccessLog::compile("$status $request_time").is_err());
    }
}
