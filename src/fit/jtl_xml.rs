//! JMeter results saved as XML (`<testResults version="1.2">` holding one `<httpSample .../>` or
//! `<sample .../>` element a sample), read a line at a time by a small tag and attribute scanner:
//! never as a whole-file document, since results run to gigabytes. Attributes read: `ts` when
//! the sample started (ms since 1970), `t` its elapsed time (ms), `s` success (`rc` below 400
//! where `s` is absent), `lb` its label, and `na` the threads active in all groups (else `ng`,
//! its own group's) as the concurrency. A sample nested in another (the sub-results of a
//! transaction controller, or an HTTP sample's redirects and embedded resources) is counted
//! once, in its top-level sample, as JMeter's own CSV output counts it.
//!
//! No XML crate: the layout is flat and attribute-only, and the few rules it needs (a tag may
//! run over several lines, a `>` may sit inside a quoted value, comments and CDATA are skipped,
//! labels may hold the five entities and character references) are shorter here than an event
//! loop of quick-xml over a line-oriented reader. It is not a general XML parser: declarations,
//! DTDs and namespaces are skipped, not checked, and text content is ignored.

use std::borrow::Cow;

use super::input::{FormatInfo, LineParser, Requests};

/// Longest tag kept while it runs over several lines (a longer one is not JMeter's).
const MAX_TAG_BYTES: usize = 1 << 16;

/// What an earlier line left open.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Open {
    #[default]
    Nothing,
    Tag,
    Comment,
    Cdata,
}

/// The reader of one JMeter XML file.
#[derive(Debug, Default)]
pub(crate) struct JtlXml {
    open: Open,
    /// The text so far of a tag begun on an earlier line.
    partial: String,
    /// Sample elements open around the current position.
    depth: u32,
    /// Samples nested in another (counted once, in their top-level sample), and the top-level
    /// samples that hold some.
    nested: u64,
    parents: u64,
    /// Whether the open top-level sample was counted among the parents.
    counted_parent: bool,
    /// The gaps between a thread's (`tn`) top-level samples: its think time.
    gaps: super::closed::ThreadGaps,
}

impl LineParser for JtlXml {
    fn format(&self) -> FormatInfo {
        FormatInfo::new("jtl (JMeter XML results)", 1e-3)
    }

    fn notes(&self) -> Vec<(String, f64)> {
        let mut n = self.gaps.notes();
        n.push(("nested_samples".into(), self.nested as f64));
        n
    }

    fn warnings(&self) -> Vec<String> {
        if self.nested == 0 {
            return Vec::new();
        }
        vec![format!(
            "{} nested inside {} (a transaction controller's children, or an HTTP sample's redirects and embedded resources) counted once, in their top-level sample: its time covers them, as JMeter's CSV output counts it",
            crate::fmt::counted(self.nested, "sample", "samples"),
            crate::fmt::counted(self.parents, "top-level sample", "top-level samples")
        )]
    }

    fn parse(&mut self, line: &str, to: &mut Requests) -> Result<(), String> {
        let mut rest = line;
        loop {
            match self.open {
                Open::Comment | Open::Cdata => {
                    let end = if self.open == Open::Comment {
                        "-->"
                    } else {
                        "]]>"
                    };
                    let Some(i) = rest.find(end) else {
                        return Ok(());
                    };
                    rest = &rest[i + end.len()..];
                    self.open = Open::Nothing;
                }
                Open::Tag => {
                    self.partial.push(' ');
                    let Some(i) = tag_end(rest) else {
                        self.partial.push_str(rest);
                        if self.partial.len() > MAX_TAG_BYTES {
                            let cut: String = self.partial.chars().take(60).collect();
                            self.partial.clear();
                            self.open = Open::Nothing;
                            return Err(format!(
                                "a tag longer than {MAX_TAG_BYTES} bytes (`<{cut}...`): not JMeter XML"
                            ));
                        }
                        return Ok(());
                    };
                    self.partial.push_str(&rest[..i]);
                    rest = &rest[i + 1..];
                    self.open = Open::Nothing;
                    let tag = std::mem::take(&mut self.partial);
                    let result = self.tag(&tag, to);
                    self.partial = tag;
                    self.partial.clear();
                    result?;
                }
                Open::Nothing => {
                    let Some(i) = rest.find('<') else {
                        return Ok(());
                    };
                    rest = &rest[i + 1..];
                    if let Some(r) = rest.strip_prefix("!--") {
                        rest = r;
                        self.open = Open::Comment;
                    } else if let Some(r) = rest.strip_prefix("![CDATA[") {
                        rest = r;
                        self.open = Open::Cdata;
                    } else if let Some(i) = tag_end(rest) {
                        self.tag(&rest[..i], to)?;
                        rest = &rest[i + 1..];
                    } else {
                        self.partial.clear();
                        self.partial.push_str(rest);
                        self.open = Open::Tag;
                        return Ok(());
                    }
                }
            }
        }
    }
}

impl JtlXml {
    /// One tag's text between `<` and `>`.
    fn tag(&mut self, text: &str, to: &mut Requests) -> Result<(), String> {
        if let Some(name) = text.strip_prefix('/') {
            if is_sample(name.trim()) {
                self.depth = self.depth.saturating_sub(1);
            }
            return Ok(());
        }
        let name_end = text
            .find(|c: char| c.is_ascii_whitespace() || c == '/')
            .unwrap_or(text.len());
        if !is_sample(&text[..name_end]) {
            return Ok(());
        }
        let self_closing = text.trim_end().ends_with('/');
        if self.depth == 0 {
            let attrs = text[name_end..].trim_end().trim_end_matches('/');
            sample(attrs, to, &mut self.gaps)?;
        } else {
            self.nested += 1;
            if self.depth == 1 && !self.counted_parent {
                self.parents += 1;
                self.counted_parent = true;
            }
        }
        if self.depth == 0 {
            self.counted_parent = false;
        }
        if !self_closing {
            self.depth += 1;
        }
        Ok(())
    }
}

fn is_sample(name: &str) -> bool {
    name == "httpSample" || name == "sample"
}

/// The position of the `>` that ends a tag in `s`, outside quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, b) in s.bytes().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The attributes of one sample element: its request.
fn sample(
    attrs: &str,
    to: &mut Requests,
    gaps: &mut super::closed::ThreadGaps,
) -> Result<(), String> {
    let (mut ts, mut t, mut s, mut lb, mut rc, mut na, mut ng, mut tn) =
        (None, None, None, None, None, None, None, None);
    for (name, value) in Attributes(attrs) {
        let value = value?;
        match name {
            "ts" => ts = Some(value),
            "t" => t = Some(value),
            "s" => s = Some(value),
            "lb" => lb = Some(value),
            "rc" => rc = Some(value),
            "na" => na = Some(value),
            "ng" => ng = Some(value),
            "tn" => tn = Some(value),
            _ => {}
        }
    }
    let ts: f64 = ts
        .ok_or("a sample without `ts` (its start time)")?
        .parse()
        .map_err(|_| format!("ts `{}` is not a number of ms", ts.unwrap_or("")))?;
    let t: f64 = t
        .ok_or("a sample without `t` (its elapsed time)")?
        .parse()
        .ok()
        .filter(|x: &f64| *x >= 0.0)
        .ok_or_else(|| format!("t `{}` is not a number of ms", t.unwrap_or("")))?;
    let ok = match (s, rc) {
        (Some("true"), _) => true,
        (Some("false"), _) => false,
        (Some(other), _) => return Err(format!("s `{other}` is not true or false")),
        (None, Some(code)) => code.parse::<u16>().is_ok_and(|c| c < 400),
        (None, None) => true,
    };
    let concurrency = match na.or(ng) {
        Some(n) => n
            .parse::<f32>()
            .map_err(|_| format!("na `{n}` is not a number of threads"))?,
        None => f32::NAN,
    };
    let label = unescape(lb.unwrap_or("(all)"));
    let r = to.push(&label, ts / 1000.0, t / 1000.0, ok, concurrency);
    if !ok {
        r.refusal = rc.map_or(Default::default(), super::refusals::of_jmeter_code);
    }
    if let Some(tn) = tn {
        gaps.sample(tn, ts / 1000.0, (ts + t) / 1000.0);
    }
    Ok(())
}

/// `name="value"` pairs of a tag's attribute text; a malformed one yields an error.
struct Attributes<'a>(&'a str);

impl<'a> Iterator for Attributes<'a> {
    type Item = (&'a str, Result<&'a str, String>);
    fn next(&mut self) -> Option<Self::Item> {
        let s = self.0.trim_start();
        if s.is_empty() {
            return None;
        }
        let eq = s.find('=');
        let name = s[..eq.unwrap_or(s.len())].trim();
        let bad = |s: &'a str| {
            let shown: String = s.chars().take(40).collect();
            Some((name, Err(format!("malformed attribute at `{shown}`"))))
        };
        let Some(eq) = eq else {
            self.0 = "";
            return bad(s);
        };
        let v = s[eq + 1..].trim_start();
        let Some(q) = v.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            self.0 = "";
            return bad(s);
        };
        let Some(end) = v[1..].find(q) else {
            self.0 = "";
            return bad(s);
        };
        self.0 = &v[end + 2..];
        Some((name, Ok(&v[1..end + 1])))
    }
}

/// An attribute value with its entities and character references replaced.
fn unescape(v: &str) -> Cow<'_, str> {
    if !v.contains('&') {
        return Cow::Borrowed(v);
    }
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::{Endpoints, Record};

    fn read(lines: &[&str]) -> (Vec<Record>, Endpoints, Vec<String>) {
        let mut p = JtlXml::default();
        let (mut eps, mut out, mut errs) = (Endpoints::default(), Vec::new(), Vec::new());
        for l in lines {
            if let Err(e) = p.parse(l, &mut Requests::new(&mut eps, &mut out)) {
                errs.push(e);
            }
        }
        (out, eps, errs)
    }

    #[test]
    fn flat_samples_with_attributes() {
        let (r, eps, errs) = read(&[
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<testResults version="1.2">"#,
            r#"<httpSample t="1733" lt="1282" ts="1132021485561" s="true" lb="home" rc="200" na="7"/>"#,
            r#"<sample t='5' ts='1132021485600' s='false' lb='a &amp; b &#x3C;&#62;' rc="500"/>"#,
            "</testResults>",
        ]);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].start_s, 1132021485.561);
        assert_eq!(r[0].time_s, 1.733);
        assert!(r[0].ok);
        assert_eq!(r[0].concurrency, 7.0);
        assert_eq!(eps.name(r[1].endpoint), "a & b <>");
        assert!(!r[1].ok);
        assert!(r[1].concurrency.is_nan());
    }

    #[test]
    fn nested_samples_count_once_and_tags_may_span_lines() {
        let (r, eps, errs) = read(&[
            "<testResults version=\"1.2\">",
            "<sample t=\"900\" ts=\"1000\" s=\"true\" lb=\"checkout\"",
            "   rc=\"200\" rm=\"Number of samples in transaction : 2\">",
            "  <httpSample t=\"400\" ts=\"1000\" s=\"true\" lb=\"cart\" rc=\"200\">",
            "    <responseData class=\"java.lang.String\">a &lt;b&gt; x > y",
            "spanning lines <!-- a comment --></responseData>",
            "    <![CDATA[ <httpSample t=\"1\" ts=\"1\"/> ]]>",
            "  </httpSample>",
            "  <httpSample t=\"500\" ts=\"1400\" s=\"true\" lb=\"pay\" rc=\"200\"/>",
            "</sample>",
            "<!-- <httpSample t=\"2\" ts=\"2\"/>",
            "-->",
            "<httpSample t=\"100\" ts=\"2000\" s=\"false\" lb=\"home\" rc=\"503\"></httpSample>",
            "</testResults>",
        ]);
        assert!(errs.is_empty(), "{errs:?}");
        let got: Vec<(&str, f64)> = r.iter().map(|x| (eps.name(x.endpoint), x.time_s)).collect();
        assert_eq!(got, vec![("checkout", 0.9), ("home", 0.1)]);
    }

    #[test]
    fn bad_samples_say_why() {
        let (r, _, errs) = read(&[
            r#"<httpSample t="x" ts="1"/>"#,
            r#"<httpSample t="1"/>"#,
            r#"<httpSample t="1" ts="1" s="maybe"/>"#,
            r#"<httpSample t="1" ts="1" lb=oops/>"#,
        ]);
        assert!(r.is_empty());
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].contains("t `x`"), "{}", errs[0]);
        assert!(errs[1].contains("without `ts`"), "{}", errs[1]);
        assert!(errs[2].contains("s `maybe`"), "{}", errs[2]);
        assert!(errs[3].contains("malformed attribute"), "{}", errs[3]);
    }

    #[test]
    fn gt_inside_a_quoted_value_does_not_end_the_tag() {
        let (r, eps, errs) = read(&[r#"<httpSample t="3" ts="10" lb="a>b" s="true"/>"#]);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(eps.name(r[0].endpoint), "a>b");
    }
}
