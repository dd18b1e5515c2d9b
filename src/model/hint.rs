//! The "did you mean" hint for a mistyped name: the closest of the names that would have been
//! right, when one is close enough to be a likely typo. Not the message around it (`error`,
//! `overrides`, `build`): only the choice of the name.

/// The closest candidate to `word`, if any is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    // Close by edits (transpositions count as one), or by Jaro-Winkler for longer words.
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| {
            let edits = strsim::damerau_levenshtein(word, c);
            let score = if edits <= limit {
                2.0 - edits as f64 / 100.0
            } else {
                strsim::jaro_winkler(word, c)
            };
            (score, *c)
        })
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
