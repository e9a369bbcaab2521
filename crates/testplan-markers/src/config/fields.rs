//! Readers for the value types shared by several sections: durations, byte sizes, positive
//! integers, one-of-a-set strings, marker expressions and regexes.

use std::num::NonZeroUsize;
use std::time::Duration;

use regex::Regex;

use super::error::{ConfigError, ConfigErrorKind};
use super::walk::{Source, Value};
use crate::expr::MarkerExpr;
use crate::marker::MarkerRegistry;
use crate::suggest::did_you_mean;
use crate::units::{ByteSize, parse_duration};

/// A duration string: `300ms`, `5s`, `2m`, `1h`.
pub(super) fn duration(src: &Source<'_>, value: &Value<'_, '_>) -> Result<Duration, ConfigError> {
    parse_duration(value.str(src)?).map_err(|e| value.error(src, ConfigErrorKind::Unit(e)))
}

/// A byte size: a string with a unit (`2GiB`) or an integer number of bytes.
pub(super) fn byte_size(src: &Source<'_>, value: &Value<'_, '_>) -> Result<ByteSize, ConfigError> {
    if let Some(bytes) = value.integer(src)? {
        return u64::try_from(bytes)
            .ok()
            .filter(|bytes| *bytes > 0)
            .map(ByteSize)
            .ok_or_else(|| value.error(src, ConfigErrorKind::NotPositive { value: bytes.to_string() }));
    }
    let text = value.str(src).map_err(|_| wrong_type(src, value, "a size string or a number of bytes"))?;
    ByteSize::parse(text).map_err(|e| value.error(src, ConfigErrorKind::Unit(e)))
}

/// A positive integer.
pub(super) fn positive(src: &Source<'_>, value: &Value<'_, '_>) -> Result<NonZeroUsize, ConfigError> {
    let Some(number) = value.integer(src)? else {
        return Err(wrong_type(src, value, "a positive integer"));
    };
    let not_positive = || value.error(src, ConfigErrorKind::NotPositive { value: number.to_string() });
    usize::try_from(number).ok().and_then(NonZeroUsize::new).ok_or_else(not_positive)
}

fn wrong_type(src: &Source<'_>, value: &Value<'_, '_>, expected: &'static str) -> ConfigError {
    value.error(src, ConfigErrorKind::WrongType { expected, found: value.value.type_str() })
}

/// One of a fixed set of strings.
pub(super) fn choice<T: Copy>(
    src: &Source<'_>,
    value: &Value<'_, '_>,
    options: &[(&str, T)],
) -> Result<T, ConfigError> {
    let text = value.str(src)?;
    if let Some((_, chosen)) = options.iter().find(|(name, _)| *name == text) {
        return Ok(*chosen);
    }
    let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
    let suggestion = did_you_mean(text, names.iter().copied()).map(str::to_owned);
    let kind =
        ConfigErrorKind::InvalidValue { value: text.to_owned(), expected: quoted_list(&names), suggestion };
    Err(value.error(src, kind))
}

/// `'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`.
fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A marker expression whose markers are all registered; errors point into the string.
pub(super) fn marker_expr(
    src: &Source<'_>,
    value: &Value<'_, '_>,
    registry: &MarkerRegistry,
) -> Result<MarkerExpr, ConfigError> {
    let text = value.str(src)?;
    MarkerExpr::parse_checked(text, registry).map_err(|error| {
        let offset = value.offset_in_string(src, error.column());
        src.error(offset, &value.path, ConfigErrorKind::Expr(error.kind().clone()))
    })
}

/// A regular expression, with the regex crate's message on one line when it is invalid.
pub(super) fn regex(src: &Source<'_>, value: &Value<'_, '_>) -> Result<Regex, ConfigError> {
    let text = value.str(src)?;
    Regex::new(text).map_err(|error| {
        value.error(
            src,
            ConfigErrorKind::InvalidRegex { regex: text.to_owned(), error: regex_message(&error) },
        )
    })
}

/// The regex crate's multi-line message (pattern, caret, `error: ...`) reduced to its last
/// line, or flattened when it has no such line.
fn regex_message(error: &regex::Error) -> String {
    let text = error.to_string();
    match text.rsplit_once("\nerror: ") {
        Some((_, message)) => message.trim().to_owned(),
        None => text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}
