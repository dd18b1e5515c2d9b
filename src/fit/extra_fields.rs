//! A log in the combined format with fields after it (an nginx `log_format` that appends
//! `$request_time`, `$upstream_response_time`, `"$http_x_forwarded_for"`, ...): the Common Log
//! Format, whose last field (the byte count) runs to the end of the line, would read such a
//! line and silently drop the extra fields, response time included. This reader reads the
//! combined fields and counts, position by position, the extra fields and how many of them are
//! plain decimal numbers (nginx writes `$request_time` in seconds with three decimals); it then
//! warns, naming the `--log-format` that reads them.
//!
//! It never takes an extra field for a response time on its own: that is the user's to say.

use super::access_log::{AccessLog, NGINX_COMBINED};
use super::input::{FormatInfo, LineParser, Requests};
use crate::fmt::{counted, human_count};

/// The combined format's fields up to the closing quote of the user agent.
const COMBINED_PREFIX: &str = r#"^\S+ \S+ \S+ \[[^\]]*\] "(?:[^"\\]|\\.)*" \d{3} (?:\d+|-) "(?:[^"\\]|\\.)*" "(?:[^"\\]|\\.)*""#;

/// Share of the lines with extra fields on which a field must be a plain decimal to be named
/// a likely response time.
const NEARLY_EVERY: f64 = 0.95;

/// The fields after the combined ones on `line` (a quoted field with its quotes), or None when
/// the line is not the combined format followed by something.
pub(crate) fn trailing(prefix: &regex_lite::Regex, line: &str) -> Option<Vec<String>> {
    let end = prefix.find(line)?.end();
    let tail = line[end..].trim();
    if tail.is_empty() || !line[end..].starts_with([' ', '\t']) {
        return None;
    }
    Some(split(tail))
}

/// Fields separated by blanks; a field opening with `"` runs to its closing quote.
fn split(tail: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = tail.trim_start();
    while !rest.is_empty() {
        let len = if let Some(q) = rest.strip_prefix('"') {
            q.find('"').map_or(rest.len(), |i| i + 2)
        } else {
            rest.find([' ', '\t']).unwrap_or(rest.len())
        };
        out.push(rest[..len].to_string());
        rest = rest[len..].trim_start();
    }
    out
}

/// Whether a field is a plain decimal with a fractional part, as nginx writes seconds.
fn decimal(field: &str) -> bool {
    match field.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

pub(crate) fn prefix_regex() -> regex_lite::Regex {
    regex_lite::Regex::new(COMBINED_PREFIX).expect("the combined prefix compiles")
}

/// The combined format read from lines that carry more fields after it.
pub(crate) struct CombinedWithExtra {
    inner: AccessLog,
    prefix: regex_lite::Regex,
    /// The first line's extra fields, as an example.
    example: Vec<String>,
    /// Lines read, and those with extra fields.
    lines: u64,
    with_extra: u64,
    /// Per position of an extra field: the lines on which it is a plain decimal.
    decimals: Vec<u64>,
}

impl CombinedWithExtra {
    /// The reader, when `first` is the combined format followed by extra fields.
    pub(crate) fn detect(first: &str, inner: AccessLog) -> Option<CombinedWithExtra> {
        let prefix = prefix_regex();
        let example = trailing(&prefix, first)?;
        Some(CombinedWithExtra {
            inner,
            prefix,
            decimals: vec![0; example.len()],
            example,
            lines: 0,
            with_extra: 0,
        })
    }

    /// The position of the field that is a plain decimal on nearly every line with extras.
    fn likely_time(&self) -> Option<usize> {
        let bar = NEARLY_EVERY * self.with_extra as f64;
        self.decimals
            .iter()
            .position(|&d| self.with_extra > 0 && d as f64 >= bar)
    }

    /// The `--log-format` that reads the extra fields, with `$request_time` at `time`.
    pub(crate) fn log_format(&self, time: Option<usize>) -> String {
        let mut f = String::from(NGINX_COMBINED);
        for (i, x) in self.example.iter().enumerate() {
            let name = if Some(i) == time {
                "$request_time".to_string()
            } else {
                format!("$extra{}", i + 1)
            };
            f.push(' ');
            if x.starts_with('"') {
                f.push_str(&format!("\"{name}\""));
            } else {
                f.push_str(&name);
            }
        }
        f
    }
}

impl LineParser for CombinedWithExtra {
    fn format(&self) -> FormatInfo {
        FormatInfo::new(
            format!(
                "combined log format followed by {} (read without them: no response time)",
                counted(self.example.len() as u64, "extra field", "extra fields")
            ),
            1.0,
        )
    }

    fn parse(&mut self, line: &str, to: &mut Requests) -> Result<(), String> {
        self.lines += 1;
        let Some(m) = self.prefix.find(line) else {
            return self.inner.parse(line, to);
        };
        let end = m.end();
        self.inner.parse(&line[..end], to)?;
        let tail = line[end..].trim();
        if !tail.is_empty() {
            self.with_extra += 1;
            for (i, f) in split(tail).iter().enumerate() {
                if let Some(d) = self.decimals.get_mut(i) {
                    *d += u64::from(decimal(f));
                }
            }
        }
        Ok(())
    }

    fn notes(&self) -> Vec<(String, f64)> {
        vec![("lines_with_extra_fields".into(), self.with_extra as f64)]
    }

    fn warnings(&self) -> Vec<String> {
        let n = self.with_extra;
        let k = self.example.len();
        let head = format!(
            "{} of {} {} {} after the combined format (the first line's: `{}`); they were read \
             as if absent, so this log gives no response times",
            human_count(n as f64),
            counted(self.lines, "line", "lines"),
            if n == 1 { "has" } else { "have" },
            counted(k as u64, "extra field", "extra fields"),
            self.example.join(" ")
        );
        match self.likely_time() {
            Some(i) => vec![format!(
                "{head}. Extra field {} is a plain decimal on {} of them (as nginx writes $request_time in seconds): if it is $request_time, give --log-format '{}'",
                i + 1,
                human_count(self.decimals[i] as f64),
                self.log_format(Some(i))
            )],
            None => vec![format!(
                "{head}. If one is $request_time, give --log-format '{}' with $request_time in its place",
                self.log_format(None)
            )],
        }
    }

    fn timed(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_and_plain_fields() {
        let re = prefix_regex();
        let line = r#"1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] "GET /a?x=\"1\" HTTP/1.1" 200 512 "-" "curl/8" 0.123 "9.9.9.9, 8.8.8.8" 0.120"#;
        assert_eq!(
            trailing(&re, line).unwrap(),
            vec!["0.123", "\"9.9.9.9, 8.8.8.8\"", "0.120"]
        );
        let plain =
            r#"1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 512 "-" "curl/8""#;
        assert_eq!(trailing(&re, plain), None);
        assert!(decimal("0.123") && decimal("12.5"));
        assert!(!decimal("123") && !decimal("-") && !decimal(".5") && !decimal("1.2.3"));
    }
}
