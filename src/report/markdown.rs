//! `report.md`: a [`Report`] as GitHub-flavoured Markdown for tickets and pull requests. Charts
//! are referenced as the PNG files beside it (attach them with the file), tables are GFM tables,
//! the model is a fenced TOML block.

use super::{Block, Report, Table};

/// Escape text for a GFM table cell or a paragraph: pipes, and characters Markdown would read
/// as emphasis or HTML.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '*' | '_' | '`' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Text for an inline code span in a table: a backtick would end the span, a pipe the cell and
/// a line break the row.
fn code(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('`', "'")
        .replace(['\n', '\r'], " ")
}

pub(crate) fn render(r: &Report) -> String {
    let mut m = String::new();
    m.push_str(&format!("# {}\n\n", cell(&r.title)));
    if !r.subtitle.is_empty() {
        m.push_str(&format!("{}\n\n", cell(&r.subtitle)));
    }
    for (i, s) in r.answer.iter().enumerate() {
        if i == 0 {
            m.push_str(&format!("**{}**\n\n", cell(s)));
        } else {
            m.push_str(&format!("{}\n\n", cell(s)));
        }
    }
    if !r.checks.is_empty() {
        let failed = r.checks.iter().filter(|o| !o.passed).count();
        m.push_str("## Checks (--assert)\n\n");
        m.push_str(&if failed == 0 {
            format!("All {} checks passed.\n\n", r.checks.len())
        } else {
            format!("**{failed} of {} checks failed.**\n\n", r.checks.len())
        });
        m.push_str("| result | check | actual value |\n| --- | --- | ---: |\n");
        for o in &r.checks {
            m.push_str(&format!(
                "| {} | `{}` | {} |\n",
                if o.passed { "passed" } else { "**FAILED**" },
                code(&o.expression),
                cell(&o.actual_text())
            ));
        }
        m.push('\n');
    }
    for s in &r.sections {
        m.push_str(&format!("## {}\n\n", cell(&s.heading)));
        for b in &s.blocks {
            match b {
                Block::Text(t) => m.push_str(&format!("{}\n\n", cell(t))),
                Block::Table(t) => table(&mut m, t),
                Block::Chart(c) => m.push_str(&format!(
                    "![{}]({})\n\n*{}*\n\n",
                    cell(&c.caption),
                    c.png.replace(' ', "%20"),
                    cell(&c.caption)
                )),
                Block::Code { language, text } => {
                    // A fence longer than any run of backticks in the text (a name may hold
                    // some), so the text cannot end it.
                    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
                    let fence = "`".repeat(longest.max(2) + 1);
                    m.push_str(&format!("{fence}{language}\n{}", text));
                    if !text.ends_with('\n') {
                        m.push('\n');
                    }
                    m.push_str(&format!("{fence}\n\n"));
                }
                Block::Facts(f) => {
                    m.push_str("| | |\n| --- | --- |\n");
                    for (k, v) in f {
                        m.push_str(&format!("| {} | `{}` |\n", cell(k), code(v)));
                    }
                    m.push('\n');
                }
            }
        }
    }
    m
}

/// The model text of a report written by [`render`]: the fenced TOML block under "Model as
/// run" (so `surge plot` can write the report again without the model file).
pub(crate) fn model_text_of(md: &str) -> Option<String> {
    let after = md.split_once("\n## Model as run\n")?.1;
    let (fence, body) = after.trim_start().split_once('\n')?;
    let fence = fence.strip_suffix("toml")?;
    let end = body.find(&format!("\n{fence}\n"))?;
    Some(body[..=end].to_string())
}

fn table(m: &mut String, t: &Table) {
    if !t.caption.is_empty() {
        m.push_str(&format!("{}\n\n", cell(&t.caption)));
    }
    m.push_str(&format!(
        "| {} |\n|{}\n",
        t.header
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | "),
        " --- |".repeat(t.header.len())
    ));
    for row in &t.rows {
        m.push_str(&format!(
            "| {} |\n",
            row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    m.push('\n');
    if let Some(n) = &t.note {
        m.push_str(&format!("{}\n\n", cell(n)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Chart, Section};

    #[test]
    fn charts_are_the_png_files_and_tables_are_gfm() {
        let r = Report {
            title: "t".into(),
            sections: vec![Section {
                heading: "h".into(),
                blocks: vec![
                    Block::Chart(Chart {
                        caption: "timeline".into(),
                        svg: "<svg></svg>".into(),
                        png: "run/timeline.png".into(),
                    }),
                    Block::Table(Table {
                        caption: String::new(),
                        header: vec!["a".into(), "b".into()],
                        rows: vec![vec!["x|y".into(), "≥ 1 h".into()]],
                        note: None,
                    }),
                ],
            }],
            ..Report::default()
        };
        let md = render(&r);
        assert!(md.contains("![timeline](run/timeline.png)"), "{md}");
        let model = "[scenario]\nname = \"m\"\n";
        let with_model = Report {
            sections: crate::report::model_and_provenance(Some(model), None, None),
            ..r.clone()
        };
        assert_eq!(model_text_of(&render(&with_model)).as_deref(), Some(model));
        // Backticks (and tildes) in the model's names cannot end its fence.
        let odd = "[scenario]\nname = \"a```b ~~~~ c``\"\n```\n";
        let with_odd = Report {
            sections: crate::report::model_and_provenance(Some(odd), None, None),
            ..r.clone()
        };
        let text = render(&with_odd);
        assert!(text.contains("\n````toml\n"), "{text}");
        assert_eq!(model_text_of(&text).as_deref(), Some(odd));
        assert_eq!(model_text_of(&md), None);
        assert!(!md.contains("<svg"));
        assert!(
            md.contains("| a | b |\n| --- | --- |\n| x\\|y | ≥ 1 h |"),
            "{md}"
        );
    }
}
