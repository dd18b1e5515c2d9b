//! nginx and Apache access logs: a log format, in nginx variable syntax
//! (`$remote_addr - $remote_user [$time_local] "$request" ... $request_time`) or Apache's
//! (`%h %l %u %t "%r" %>s %b ... %D`), compiled into literals and fields; a line is matched
//! left to right, each field running up to the next literal. The defaults are the combined
//! format followed by the request time (`$request_time` in seconds for nginx, `%D` in
//! microseconds for Apache); the Common Log Format and the combined format, the defaults of
//! both servers, have no response time: their requests carry a NaN time and the fit takes the
//! service time from elsewhere (`--service`, another file).
//!
//! Times: nginx logs when a request ends (`$time_local`, `$time_iso8601`, `$msec`), Apache when
//! it arrived (`%t`); the start of an nginx request is its end less its request time.
//! `$upstream_response_time` may be a comma list (one per upstream tried): the times are added.
//! Each request also says who asked (`sessions::Visit`): the client's address (`$remote_addr`,
//! `%h`) with its user agent where the format has one, the status, and whether the target is an
//! asset (the `--assets` pattern).

use super::input::{FormatInfo, LineParser, Requests, path_of};
use super::sessions::{Visit, client_hash};
use super::timefmt::{parse_clf, parse_iso};

/// nginx's `combined` format (its default `log_format`), in its own syntax.
pub(crate) const NGINX_COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;
pub(crate) const NGINX_DEFAULT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#;
/// nginx's combined format followed by `$request_time $upstream_response_time`, as a proxy in
/// front of an application server logs both times.
pub(crate) const NGINX_UPSTREAM: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $upstream_response_time"#;
pub(crate) const APACHE_DEFAULT: &str =
    r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i" %D"#;
/// The Common Log Format (no response time, no user agent).
pub(crate) const CLF: &str = r#"%h %l %u %t "%r" %>s %b"#;
/// The combined log format (no response time).
pub(crate) const COMBINED: &str = r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i""#;
/// The default `--assets` pattern: images, style sheets, scripts, fonts, icons, source maps.
pub(crate) const DEFAULT_ASSETS: &str =
    r"(?i)\.(gif|jpe?g|png|webp|bmp|ico|svg|css|js|woff2?|ttf|otf|eot|map)(\?|$)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
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
    /// The client's address (`$remote_addr`, `%h`, `%a`).
    Client,
    /// Its user agent (`$http_user_agent`, `%{User-agent}i`).
    Agent,
    Skip,
}

#[derive(Debug, Clone)]
enum Tok {
    Lit(String),
    Field(Field),
}

/// A compiled access-log format.
#[derive(Debug, Clone)]
pub(crate) struct AccessLog {
    pub flavour: Flavour,
    text: String,
    toks: Vec<Tok>,
    resolution: f64,
    /// The last clock field read and its value (consecutive lines share their second).
    cache: (String, f64),
    /// Whether the format has a response time.
    timed: bool,
    /// Requests for assets rather than pages, by their target (`None`: none are assets).
    assets: Option<regex_lite::Regex>,
}

impl AccessLog {
    pub(crate) fn nginx_default() -> AccessLog {
        AccessLog::compile(NGINX_DEFAULT).expect("the default nginx format compiles")
    }
    pub(crate) fn nginx_upstream() -> AccessLog {
        AccessLog::compile(NGINX_UPSTREAM).expect("the nginx format with upstream time compiles")
    }
    pub(crate) fn apache_default() -> AccessLog {
        AccessLog::compile(APACHE_DEFAULT).expect("the default Apache format compiles")
    }
    pub(crate) fn clf() -> AccessLog {
        AccessLog::compile(CLF).expect("the Common Log Format compiles")
    }
    pub(crate) fn combined() -> AccessLog {
        AccessLog::compile(COMBINED).expect("the combined format compiles")
    }

    /// Tell assets from pages by `pattern`, matched against each request's target.
    pub(crate) fn with_assets(mut self, pattern: &regex_lite::Regex) -> AccessLog {
        self.assets = Some(pattern.clone());
        self
    }

    /// Compile a format; nginx syntax when it holds `$`, else Apache's.
    pub(crate) fn compile(format: &str) -> Result<AccessLog, String> {
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
                let (f, next) = nginx_variable(format, i)?;
                i = next;
                Some(f)
            } else if flavour == Flavour::Apache && c == b'%' {
                let (f, next) = apache_directive(format, i, &mut resolution)?;
                i = next;
                if f.is_none() {
                    lit.push('%');
                }
                f
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
        let timed = has(|f| matches!(f, Field::Duration(_) | Field::Upstream));
        Ok(AccessLog {
            flavour,
            text: format.to_string(),
            toks,
            resolution: if timed { resolution } else { 1.0 },
            cache: (String::new(), 0.0),
            timed,
            assets: None,
        })
    }

    /// Who asked: the client (address and agent) hashed, the status, whether an asset.
    fn visit(
        &self,
        client: Option<&str>,
        agent: Option<&str>,
        status: Option<u16>,
        target: Option<&str>,
    ) -> Visit {
        let client = client.filter(|c| !c.is_empty() && *c != "-");
        Visit {
            client: client.map_or(0, |c| client_hash(c, agent)),
            address: client.map_or(0, |c| client_hash(c, None)),
            status: status.unwrap_or(0),
            asset: match (&self.assets, target) {
                (Some(re), Some(t)) => re.is_match(t),
                _ => false,
            },
        }
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

/// The nginx variable (`$name` or `${name}`) at byte `i` of `format`: its field, and the byte
/// after it.
fn nginx_variable(format: &str, i: usize) -> Result<(Field, usize), String> {
    let b = format.as_bytes();
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
    let next = if braced { j + 1 } else { j };
    let field = match name {
        "time_local" => Field::ClockEnd,
        "time_iso8601" => Field::IsoEnd,
        "msec" => Field::MsecEnd,
        "request" => Field::Request,
        "request_uri" | "uri" => Field::Path,
        "status" => Field::Status,
        "request_time" => Field::Duration(1.0),
        "upstream_response_time" => Field::Upstream,
        "remote_addr" => Field::Client,
        "http_user_agent" => Field::Agent,
        _ => Field::Skip,
    };
    Ok((field, next))
}

/// The Apache directive (`%x`, `%>x`, `%{arg}x`) at byte `i` of `format`: its field (none for
/// `%%`, a literal `%`), and the byte after it. A duration directive sets the `resolution` of
/// the times read.
fn apache_directive(
    format: &str,
    i: usize,
    resolution: &mut f64,
) -> Result<(Option<Field>, usize), String> {
    let b = format.as_bytes();
    let mut j = i + 1;
    if b.get(j) == Some(&b'%') {
        return Ok((None, j + 1));
    }
    while j < b.len() && (b[j] == b'<' || b[j] == b'>') {
        j += 1;
    }
    let mut arg = "";
    if b.get(j) == Some(&b'{') {
        let close = format[j..]
            .find('}')
            .ok_or_else(|| format!("log format: `{{` at column {} is not closed", j + 1))?;
        arg = &format[j + 1..j + close];
        j += close + 1;
    }
    let Some(&d) = b.get(j) else {
        return Err("log format ends in `%`".into());
    };
    let field = match (d, arg) {
        (b't', "") => Field::ClockStart,
        (b't', _) => {
            return Err(format!(
                "log format: %{{{arg}}}t (a custom time format) is not supported; use %t"
            ));
        }
        (b'r', _) => Field::Request,
        (b'h' | b'a', _) => Field::Client,
        (b'i', a) if a.eq_ignore_ascii_case("user-agent") => Field::Agent,
        (b'U', _) => Field::Path,
        (b's', _) => Field::Status,
        (b'D', _) => {
            *resolution = 1e-6;
            Field::Duration(1e-6)
        }
        (b'T', "" | "s") => {
            *resolution = 1.0;
            Field::Duration(1.0)
        }
        (b'T', "ms") => Field::Duration(1e-3),
        (b'T', "us") => {
            *resolution = 1e-6;
            Field::Duration(1e-6)
        }
        _ => Field::Skip,
    };
    Ok((Some(field), j + 1))
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

/// Where the literal `lit` that ends a field starting at `from` is. After a request
/// (`"%r" %>s`) it must be followed by a digit, so that a quote inside a malformed request
/// string does not end it early.
fn field_end(hay: &[u8], from: usize, lit: &[u8], digit_after: bool) -> Option<usize> {
    let mut at = from;
    loop {
        let p = find(hay, at, lit)?;
        if !digit_after || hay.get(p + lit.len()).is_some_and(u8::is_ascii_digit) {
            return Some(p);
        }
        at = p + 1;
    }
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
        } else if self.text == NGINX_UPSTREAM {
            "nginx (combined followed by $request_time $upstream_response_time)".into()
        } else if self.text == APACHE_DEFAULT {
            "apache (combined followed by %D)".into()
        } else if self.text == CLF {
            "common log format (no response time)".into()
        } else if self.text == COMBINED {
            "combined log format (no response time)".into()
        } else {
            format!("{name} log format `{}`", self.text)
        };
        FormatInfo::new(name, self.resolution)
    }

    fn timed(&self) -> bool {
        self.timed
    }

    fn parse(&mut self, line: &str, to: &mut Requests) -> Result<(), String> {
        let b = line.as_bytes();
        let mut pos = 0;
        let (mut end_s, mut start_s, mut time_s, mut upstream) = (None, None, None, None);
        let mut status: Option<u16> = None;
        let mut path: Option<&str> = None;
        let (mut target, mut client, mut agent): (Option<&str>, Option<&str>, Option<&str>) =
            (None, None, None);
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
                    let digit_after = f == Field::Request
                        && matches!(self.toks.get(k + 2), Some(Tok::Field(Field::Status)));
                    let end = match self.toks.get(k + 1) {
                        Some(Tok::Lit(l)) => field_end(b, pos, l.as_bytes(), digit_after)
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
                            // METHOD TARGET PROTOCOL; "-" for a request that never came; a
                            // bare target (no method) is read as the target.
                            let t = match v.find(' ') {
                                Some(i) => {
                                    let rest = &v[i + 1..];
                                    &rest[..rest.find(' ').unwrap_or(rest.len())]
                                }
                                None if v.starts_with('/') => v,
                                None => "-",
                            };
                            target = Some(t);
                            path = Some(path_of(t));
                        }
                        Field::Path => {
                            target = Some(v);
                            path = Some(path_of(v));
                        }
                        Field::Client => client = Some(v),
                        Field::Agent => agent = Some(v),
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
        let visit = self.visit(client, agent, status, target);
        let r = to.push(label, start, time.unwrap_or(f64::NAN), ok, f32::NAN);
        r.visit = visit;
        r.refusal = status.map_or(Default::default(), super::refusals::of_status);
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

    #[test]
    fn common_log_format_lines_without_response_times() {
        let assets = regex_lite::Regex::new(DEFAULT_ASSETS).unwrap();
        let mut p = AccessLog::clf().with_assets(&assets);
        assert!(!p.timed());
        let mut eps = Endpoints::default();
        let mut out = Vec::new();
        let mut to = Requests::new(&mut eps, &mut out);
        // NASA's layout: a `-` byte count, a malformed request with a quote inside, a bare target
        for line in [
            r#"199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] "GET /history/apollo/ HTTP/1.0" 200 6245"#,
            r#"unicomp6.unicomp.net - - [01/Jul/1995:00:00:06 -0400] "GET /images/KSC-logosmall.GIF HTTP/1.0" 304 -"#,
            r#"h1 - - [01/Jul/1995:00:00:07 -0400] "GET /a" b.html HTTP/1.0" 404 -"#,
            r#"h2 - - [01/Jul/1995:00:00:08 -0400] "/shuttle/countdown/" 200 3985"#,
        ] {
            p.parse(line, &mut to).unwrap();
        }
        // 1995-07-01 04:00:01 UTC
        assert_eq!(out[0].start_s, 804_571_201.0);
        assert!(out[0].time_s.is_nan());
        assert_eq!(out[0].visit.status, 200);
        assert!(!out[0].visit.asset && out[1].visit.asset);
        assert_eq!(out[0].visit.client, client_hash("199.72.81.55", None));
        assert_eq!(out[2].visit.status, 404);
        assert!(!out[2].ok);
        assert_eq!(eps.name(out[3].endpoint), "/shuttle/countdown/");
        // the combined format's user agent is part of the client
        let mut c = AccessLog::combined();
        let mut out = Vec::new();
        c.parse(
            r#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326 "-" "UA 1""#,
            &mut Requests::new(&mut eps, &mut out),
        )
        .unwrap();
        assert_eq!(out[0].visit.client, client_hash("10.0.0.1", Some("UA 1")));
        assert_eq!(out[0].visit.address, client_hash("10.0.0.1", None));
    }
}
