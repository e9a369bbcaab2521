//! "Did you mean ...?" suggestions for misspelt names: markers, keys, phases, profiles.
//!
//! A candidate is suggested when it is within Damerau–Levenshtein distance 2 of the input,
//! when the input is a prefix of it (`requires` → `requires-gpu`), or when the input is one
//! of its `-`-separated words (`gpu` → `requires-gpu`). The closest candidate wins; ties go
//! to the earliest candidate, so callers pass candidates in a stable order.

/// Largest edit distance still considered a typo.
const MAX_DISTANCE: usize = 2;

/// The candidate that `input` most likely misspells, if any.
pub fn did_you_mean<'c>(input: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .into_iter()
        .filter_map(|candidate| score(input, candidate).map(|score| (score, candidate)))
        .min_by_key(|(score, _)| *score)
        .map(|(_, candidate)| candidate)
}

/// Ranking of a plausible candidate (lower is better), `None` when it is not plausible.
fn score(input: &str, candidate: &str) -> Option<usize> {
    let distance = strsim::damerau_levenshtein(input, candidate);
    if distance <= MAX_DISTANCE && distance < candidate.chars().count() {
        return Some(distance);
    }
    let is_prefix = !input.is_empty() && candidate.starts_with(input);
    let is_word = candidate.split('-').any(|word| word == input);
    (is_prefix || is_word).then_some(MAX_DISTANCE + 1)
}

/// ` (did you mean 'x'?)`, or nothing: appended to error messages.
pub(crate) fn hint(suggestion: Option<&str>) -> String {
    suggestion.map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKERS: [&str; 5] = ["unit", "slow", "serial", "requires-gpu", "requires-models"];

    #[test]
    fn suggestions() {
        let cases = [
            ("slwo", Some("slow")),
            ("slo", Some("slow")),
            ("sloow", Some("slow")),
            ("requires", Some("requires-gpu")),
            ("gpu", Some("requires-gpu")),
            ("models", Some("requires-models")),
            ("requires_gpu", Some("requires-gpu")),
            ("seriall", Some("serial")),
            ("network", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(did_you_mean(input, MARKERS), expected, "input {input:?}");
        }
    }

    #[test]
    fn hint_text() {
        assert_eq!(hint(Some("slow")), " (did you mean 'slow'?)");
        assert_eq!(hint(None), "");
    }
}
