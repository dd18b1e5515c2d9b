//! `report.html`: a [`Report`] as one self-contained HTML5 page. Styles are inline (one `<style>`
//! element, with a print stylesheet for A4 and Letter and a narrow layout for phones), charts are
//! inline SVG, and there is no script, font, image or stylesheet to fetch: the file can be mailed
//! and opened offline. Tables scroll sideways on a narrow screen instead of squeezing.

use super::assert::Outcome;
use super::{Block, Report, Section, Table};

/// Escape text for HTML content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --ink: #1e1e1e; --muted: #5a5a5a; --line: #d0d0d0; --bg: #ffffff; --soft: #f4f5f7;
        --ok: #1a7f37; --bad: #b42318; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0 auto; padding: 1.5rem 1.25rem 3rem; max-width: 64rem; color: var(--ink);
       background: var(--bg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto,
       "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; padding-bottom: .2rem;
     border-bottom: 1px solid var(--line); }
.subtitle { color: var(--muted); margin: 0 0 1.25rem; }
.answer { background: var(--soft); border-left: 4px solid #2f5d8a; padding: .75rem 1rem;
          margin: 0 0 1.25rem; }
.answer p { margin: .35rem 0; font-size: 1.05rem; }
.answer p:first-child { font-weight: 600; }
.table-wrap { overflow-x: auto; margin: .5rem 0 1rem; }
table { border-collapse: collapse; font-size: .92rem; min-width: 50%; }
caption { text-align: left; font-weight: 600; padding: .2rem 0 .4rem; }
th, td { border: 1px solid var(--line); padding: .3rem .55rem; text-align: left;
         vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note { color: var(--muted); font-size: .88rem; margin: .2rem 0 1rem; }
figure { margin: 1rem 0 1.5rem; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid var(--line);
             background: #fff; }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .35rem; }
pre { background: var(--soft); padding: .75rem; overflow-x: auto; font-size: .82rem;
      line-height: 1.35; border: 1px solid var(--line); white-space: pre; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem;
           font-size: .92rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; font-family: ui-monospace, "SF Mono",
              Menlo, Consolas, monospace; }
.check { font-weight: 700; padding: 0 .4rem; border-radius: 3px; color: #fff; }
.check.passed { background: var(--ok); }
.check.failed { background: var(--bad); }
.checks-summary.failed { color: var(--bad); font-weight: 600; }
.checks-summary.passed { color: var(--ok); font-weight: 600; }
code { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: .92em; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .85rem; }
@media (max-width: 600px) {
  body { padding: 1rem .75rem 2rem; font-size: 15px; }
  h1 { font-size: 1.3rem; }
  .answer p { font-size: 1rem; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .4rem; }
  th, td { padding: .25rem .35rem; }
  td code { overflow-wrap: anywhere; word-break: break-all; }
  td.num { white-space: normal; }
  table { font-size: .85rem; }
}
@page { margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, table, .answer, pre { break-inside: avoid; page-break-inside: avoid; }
  .table-wrap { overflow: visible; }
  pre { white-space: pre-wrap; font-size: 7.5pt; }
  figure svg { border: none; max-height: 245mm; }
  .check { color: #000; background: none; border: 1px solid #000; }
  footer { display: none; }
}
"#;

/// The page.
pub(crate) fn render(r: &Report) -> String {
    let mut h = String::with_capacity(64 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<meta name=\"generator\" content=\"surge\">\n");
    h.push_str(&format!("<title>{}</title>\n", escape(&r.title)));
    h.push_str("<style>");
    h.push_str(STYLE);
    h.push_str("</style>\n</head>\n<body>\n<main>\n");
    h.push_str(&format!("<h1>{}</h1>\n", escape(&r.title)));
    if !r.subtitle.is_empty() {
        h.push_str(&format!(
            "<p class=\"subtitle\">{}</p>\n",
            escape(&r.subtitle)
        ));
    }
    if !r.answer.is_empty() {
        h.push_str("<section class=\"answer\" aria-label=\"Answer\">\n");
        for s in &r.answer {
            h.push_str(&format!("<p>{}</p>\n", escape(s)));
        }
        h.push_str("</section>\n");
    }
    if !r.checks.is_empty() {
        checks(&mut h, &r.checks);
    }
    for s in &r.sections {
        section(&mut h, s);
    }
    h.push_str(
        "</main>\n<footer>Written by surge. One self-contained file: the charts are inline SVG; \
         the PNG files beside it hold the same charts.</footer>\n</body>\n</html>\n",
    );
    h
}

fn checks(h: &mut String, outcomes: &[Outcome]) {
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    h.push_str("<section aria-label=\"Checks\">\n<h2>Checks (--assert)</h2>\n");
    let (class, text) = if failed == 0 {
        ("passed", format!("All {} checks passed.", outcomes.len()))
    } else {
        (
            "failed",
            format!("{failed} of {} checks failed.", outcomes.len()),
        )
    };
    h.push_str(&format!(
        "<p class=\"checks-summary {class}\">{}</p>\n",
        escape(&text)
    ));
    h.push_str("<div class=\"table-wrap\"><table>\n<thead><tr><th>result</th><th>check</th><th>actual value</th></tr></thead>\n<tbody>\n");
    for o in outcomes {
        let class = if o.passed { "passed" } else { "failed" };
        h.push_str(&format!(
            "<tr><td><span class=\"check {class}\">{}</span></td><td><code>{}</code></td><td class=\"num\">{}</td></tr>\n",
            if o.passed { "PASSED" } else { "FAILED" },
            escape(&o.expression),
            escape(&o.actual_text())
        ));
    }
    h.push_str("</tbody></table></div>\n</section>\n");
}

fn section(h: &mut String, s: &Section) {
    h.push_str(&format!("<section>\n<h2>{}</h2>\n", escape(&s.heading)));
    for b in &s.blocks {
        match b {
            Block::Text(t) => h.push_str(&format!("<p>{}</p>\n", escape(t))),
            Block::Table(t) => table(h, t),
            Block::Chart(c) => h.push_str(&format!(
                "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
                c.svg,
                escape(&c.caption)
            )),
            Block::Code { language, text } => h.push_str(&format!(
                "<pre><code class=\"language-{}\">{}</code></pre>\n",
                escape(language),
                escape(text)
            )),
            Block::Facts(f) => {
                h.push_str("<dl class=\"facts\">\n");
                for (k, v) in f {
                    h.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", escape(k), escape(v)));
                }
                h.push_str("</dl>\n");
            }
        }
    }
    h.push_str("</section>\n");
}

/// Whether a cell reads as a number (right-aligned): starts with a digit, a sign, "≥" or "<".
fn numeric(cell: &str) -> bool {
    let c = cell.trim_start_matches(['≥', '<', '-', '+', '~', ' ']);
    c.starts_with(|ch: char| ch.is_ascii_digit()) && cell.chars().count() < 32
}

fn table(h: &mut String, t: &Table) {
    h.push_str("<div class=\"table-wrap\"><table>\n");
    if !t.caption.is_empty() {
        h.push_str(&format!("<caption>{}</caption>\n", escape(&t.caption)));
    }
    h.push_str("<thead><tr>");
    for c in &t.header {
        h.push_str(&format!("<th scope=\"col\">{}</th>", escape(c)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        h.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            if i > 0 && numeric(c) {
                h.push_str(&format!("<td class=\"num\">{}</td>", escape(c)));
            } else {
                h.push_str(&format!("<td>{}</td>", escape(c)));
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");
    if let Some(n) = &t.note {
        h.push_str(&format!("<p class=\"note\">{}</p>\n", escape(n)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Chart, Section};

    fn sample() -> Report {
        Report {
            title: "m: surge run <x>".into(),
            subtitle: "a & b".into(),
            answer: vec!["The site stayed up.".into()],
            checks: vec![],
            sections: vec![Section {
                heading: "Charts".into(),
                blocks: vec![
                    Block::Chart(Chart {
                        caption: "timeline".into(),
                        svg: "<svg viewBox=\"0 0 1 1\"></svg>".into(),
                        png: "timeline.png".into(),
                    }),
                    Block::Table(Table {
                        caption: "t".into(),
                        header: vec!["a".into(), "b".into()],
                        rows: vec![vec!["x".into(), "1.5 s".into()]],
                        note: None,
                    }),
                    Block::Code {
                        language: "toml".into(),
                        text: "[a]\nurl = \"https://example.org\"\n".into(),
                    },
                ],
            }],
        }
    }

    #[test]
    fn the_page_is_self_contained_and_escaped() {
        let page = render(&sample());
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>m: surge run &lt;x&gt;</title>"));
        assert!(page.contains("a &amp; b"));
        assert!(page.contains("<svg viewBox"));
        assert!(page.contains("@media print"));
        assert!(page.contains("name=\"viewport\""));
        // Nothing to fetch and nothing to run; text that looks like a link stays text.
        let lower = page.to_lowercase();
        for bad in [
            "<script",
            "src=\"http",
            "href=\"http",
            "@import",
            "url(",
            "<link",
        ] {
            assert!(!lower.contains(bad), "found {bad}");
        }
        assert!(page.contains("url = &quot;https://example.org&quot;"));
    }

    #[test]
    fn numbers_are_right_aligned_and_words_are_not() {
        assert!(numeric("1.5 s"));
        assert!(numeric("≥ 3 h 2 min"));
        assert!(!numeric("web"));
        assert!(!numeric("not recovered in 2 of 3"));
    }
}
