//! Where the service layer's notes go: the model's warnings, a capped `--jobs`, what a resumed
//! journal held, a line per run of a search. A command shows them on stderr as they arise,
//! before a long run ends, so they cannot wait for the result: a service function hands each
//! to the [`Notes`] of its settings instead of printing it. The command layer passes notes that
//! print each line as it is (`commands::stderr_notes`); a test passes notes that keep them
//! (`Notes::kept`).
//!
//! Not here: the progress bars (`app::progress`), the Ctrl-C messages (`app::interrupt`, which
//! the signal handler prints itself, the command's result not yet there), and the results.

use std::sync::Arc;

/// What is called with each note.
type Each = dyn Fn(&str) + Send + Sync;

/// A callback for each note, or none (the notes are dropped: `Default`).
#[derive(Clone, Default)]
pub(crate) struct Notes(Option<Arc<Each>>);

impl std::fmt::Debug for Notes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Notes(..)"
        } else {
            "Notes(none)"
        })
    }
}

impl Notes {
    /// Notes that call `each` with every line.
    pub(crate) fn new(each: impl Fn(&str) + Send + Sync + 'static) -> Notes {
        Notes(Some(Arc::new(each)))
    }

    /// Notes kept, in order, in the list returned beside them (for tests).
    #[cfg(test)]
    pub(crate) fn kept() -> (Notes, Arc<std::sync::Mutex<Vec<String>>>) {
        let list = Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = Arc::clone(&list);
        let notes = Notes::new(move |n| {
            (into.lock().unwrap_or_else(|e| e.into_inner())).push(n.to_string())
        });
        (notes, list)
    }

    /// Hand on one note (a line, without its newline).
    pub(crate) fn note(&self, text: &str) {
        if let Some(each) = &self.0 {
            each(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_notes_are_kept_in_order_and_default_ones_dropped() {
        let (notes, list) = Notes::kept();
        let copy = notes.clone();
        notes.note("warning: one");
        copy.note("two");
        Notes::default().note("dropped");
        assert_eq!(*list.lock().unwrap(), ["warning: one", "two"]);
    }
}
