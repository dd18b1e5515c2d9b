//! The documentation's relative links hold: every `[text](target)` in README.md, CHANGELOG.md
//! and docs/*.md that is not a web address names a file or folder of the repository, and a
//! `#anchor` into a Markdown file names one of its headings (GitHub's slugs). Reads the files
//! only; runs nothing. Not a spelling or prose check.

use crate::common::repo_file;
use std::path::{Path, PathBuf};

/// The Markdown files checked: README.md, CHANGELOG.md and every docs/*.md.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![repo_file("README.md"), repo_file("CHANGELOG.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo_file("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The lines of a Markdown text outside fenced code blocks.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push(line);
        }
    }
    lines
}

/// The targets of the inline links `[text](target)` (images too), title text left out.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            targets.push(target.to_string());
            rest = &after[end..];
        }
    }
    targets
}

/// GitHub's anchor of a heading: lower case, spaces to `-`, only letters, digits, `-` and `_`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings.
fn anchors(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    prose_lines(&text)
        .into_iter()
        .filter(|l| l.starts_with('#'))
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn every_relative_link_in_the_docs_points_at_a_file_that_exists() {
    let mut dangling = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap();
        for target in link_targets(&text) {
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let to = if path.is_empty() {
                file.clone()
            } else {
                dir.join(path)
            };
            let name = file.strip_prefix(repo_file("")).unwrap_or(&file).display();
            if !to.exists() {
                dangling.push(format!("{name}: ({target}): no such file"));
            } else if let Some(a) = anchor.filter(|_| to.extension().is_some_and(|e| e == "md"))
                && !anchors(&to).iter().any(|h| h == a)
            {
                dangling.push(format!("{name}: ({target}): no such heading"));
            }
        }
    }
    assert!(
        dangling.is_empty(),
        "dangling links:\n{}",
        dangling.join("\n")
    );
}

#[test]
fn headings_become_github_anchors() {
    assert_eq!(
        slug(" End of issue 14's speed work: the targets, 2026-11-30"),
        "end-of-issue-14s-speed-work-the-targets-2026-11-30"
    );
    assert_eq!(
        slug(" Policies, and `surge compare`"),
        "policies-and-surge-compare"
    );
    assert_eq!(
        link_targets("see [a](docs/a.md#x \"t\") and ![b](b.png)\n```\n[c](nope)\n```\n"),
        ["docs/a.md#x", "b.png"]
    );
}
