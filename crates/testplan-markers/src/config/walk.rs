//! A typed view of a parsed TOML document that keeps every value's span and key path, so
//! that each error can say `FILE:LINE:COLUMN: KEY.PATH: message`.
//!
//! The configuration is read by walking `toml::de::DeTable` by hand rather than through
//! serde derive: that is what gives every error its exact key path and position, and lets
//! unknown keys be collected as warnings instead of failing deserialisation.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::error::{ConfigError, ConfigErrorKind, ConfigWarning, ConfigWarningKind, Place};
use crate::suggest::did_you_mean;

/// Byte range in the source text.
pub(super) type Span = Range<usize>;

/// The text being read and the file name errors give.
#[derive(Clone, Copy, Debug)]
pub(super) struct Source<'s> {
    pub(super) text: &'s str,
    pub(super) file: &'s str,
}

impl Source<'_> {
    /// The place of a byte offset.
    pub(super) fn place(&self, offset: usize, path: &KeyPath) -> Place {
        let (line, column) = line_column(self.text, offset);
        Place { file: self.file.to_owned(), line, column, key_path: path.0.clone() }
    }

    /// An error at a byte offset.
    pub(super) fn error(&self, offset: usize, path: &KeyPath, kind: ConfigErrorKind) -> ConfigError {
        ConfigError::new(self.place(offset, path), kind)
    }

    /// The 1-based line of a byte offset.
    pub(super) fn line(&self, offset: usize) -> u32 {
        line_column(self.text, offset).0
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (saturate(line), saturate(column))
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A key path as users write it: `markers.slow.rules[0].name`, with the metadata prefix
/// when the configuration lives in `Cargo.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct KeyPath(String);

impl KeyPath {
    /// A path starting from `prefix` (`workspace.metadata.testplan`, or empty).
    pub(super) fn root(prefix: &str) -> KeyPath {
        KeyPath(prefix.to_owned())
    }

    /// `self.key`.
    pub(super) fn key(&self, key: &str) -> KeyPath {
        let key = quote_key(key);
        if self.0.is_empty() { KeyPath(key) } else { KeyPath(format!("{}.{key}", self.0)) }
    }

    /// `self[index]`.
    pub(super) fn index(&self, index: usize) -> KeyPath {
        KeyPath(format!("{}[{index}]", self.0))
    }
}

/// A key as TOML would need it written: bare when possible, quoted otherwise.
fn quote_key(key: &str) -> String {
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare { key.to_owned() } else { format!("\"{}\"", key.escape_debug()) }
}

/// A value with its span and key path.
#[derive(Clone, Debug)]
pub(super) struct Value<'a, 'i> {
    pub(super) value: &'a DeValue<'i>,
    pub(super) span: Span,
    pub(super) path: KeyPath,
}

/// A table with its span and key path.
#[derive(Clone, Debug)]
pub(super) struct Table<'a, 'i> {
    pub(super) table: &'a DeTable<'i>,
    pub(super) span: Span,
    pub(super) path: KeyPath,
}

/// A key as written, with its span.
#[derive(Clone, Debug)]
pub(super) struct Key<'a> {
    pub(super) name: &'a str,
    pub(super) span: Span,
}

impl<'a, 'i> Value<'a, 'i> {
    /// An error pointing at the start of this value.
    pub(super) fn error(&self, src: &Source<'_>, kind: ConfigErrorKind) -> ConfigError {
        src.error(self.span.start, &self.path, kind)
    }

    fn wrong_type(&self, src: &Source<'_>, expected: &'static str) -> ConfigError {
        self.error(src, ConfigErrorKind::WrongType { expected, found: self.value.type_str() })
    }

    /// The value as a string.
    pub(super) fn str(&self, src: &Source<'_>) -> Result<&'a str, ConfigError> {
        match self.value {
            DeValue::String(text) => Ok(text),
            _ => Err(self.wrong_type(src, "a string")),
        }
    }

    /// The value as a boolean.
    pub(super) fn bool(&self, src: &Source<'_>) -> Result<bool, ConfigError> {
        self.value.as_bool().ok_or_else(|| self.wrong_type(src, "a boolean"))
    }

    /// The value as an integer (`None` when it is not one), or an error when out of range.
    pub(super) fn integer(&self, src: &Source<'_>) -> Result<Option<i64>, ConfigError> {
        let Some(integer) = self.value.as_integer() else {
            return Ok(None);
        };
        let value = i64::from_str_radix(integer.as_str(), integer.radix());
        let error = || self.error(src, ConfigErrorKind::NotPositive { value: integer.to_string() });
        value.map(Some).map_err(|_| error())
    }

    /// The value as a table.
    pub(super) fn table(&self, src: &Source<'_>) -> Result<Table<'a, 'i>, ConfigError> {
        match self.value {
            DeValue::Table(table) => Ok(Table { table, span: self.span.clone(), path: self.path.clone() }),
            _ => Err(self.wrong_type(src, "a table")),
        }
    }

    /// The value as an array of tables (`[[x]]` or `x = [{ ... }]`).
    pub(super) fn tables(&self, src: &Source<'_>) -> Result<Vec<Table<'a, 'i>>, ConfigError> {
        let items = self.array(src).map_err(|_| self.wrong_type(src, "an array of tables"))?;
        items.iter().map(|item| item.table(src)).collect()
    }

    /// The value as an array.
    pub(super) fn array(&self, src: &Source<'_>) -> Result<Vec<Value<'a, 'i>>, ConfigError> {
        let DeValue::Array(items) = self.value else {
            return Err(self.wrong_type(src, "an array"));
        };
        let item = |(i, item): (usize, &'a Spanned<DeValue<'i>>)| Value {
            value: item.get_ref(),
            span: item.span(),
            path: self.path.index(i),
        };
        Ok(items.iter().enumerate().map(item).collect())
    }

    /// The byte offset of the `column`-th character (1-based) inside this string value, so
    /// that errors in expressions point into the file. Falls back to the value's start for
    /// strings whose text differs from their source (escapes, multi-line strings).
    pub(super) fn offset_in_string(&self, src: &Source<'_>, column: usize) -> usize {
        let raw = src.text.get(self.span.clone()).unwrap_or_default();
        let basic = raw.starts_with('"') && !raw.starts_with("\"\"\"") && !raw.contains('\\');
        let literal = raw.starts_with('\'') && !raw.starts_with("'''");
        if !(basic || literal) {
            return self.span.start;
        }
        let content = &raw[1..];
        let byte = content.char_indices().nth(column.saturating_sub(1)).map_or(content.len(), |(i, _)| i);
        self.span.start + 1 + byte
    }
}

impl<'a, 'i> Table<'a, 'i> {
    /// The whole document.
    pub(super) fn root(document: &'a Spanned<DeTable<'i>>, path: KeyPath) -> Table<'a, 'i> {
        Table { table: document.get_ref(), span: document.span(), path }
    }

    /// An error pointing at this table (its header, for `[x]` tables).
    pub(super) fn error(&self, src: &Source<'_>, kind: ConfigErrorKind) -> ConfigError {
        src.error(self.span.start, &self.path, kind)
    }

    /// The value of `key`, if present.
    pub(super) fn get(&self, key: &str) -> Option<Value<'a, 'i>> {
        let (_, value) = self.table.iter().find(|(k, _)| k.get_ref() == key)?;
        Some(self.value(key, value))
    }

    /// The value of `key`, or a "missing required key" error.
    pub(super) fn required(&self, src: &Source<'_>, key: &'static str) -> Result<Value<'a, 'i>, ConfigError> {
        self.get(key).ok_or_else(|| self.error(src, ConfigErrorKind::MissingKey { key }))
    }

    fn value(&self, key: &str, value: &'a Spanned<DeValue<'i>>) -> Value<'a, 'i> {
        Value { value: value.get_ref(), span: value.span(), path: self.path.key(key) }
    }

    /// All entries in the order they are written.
    pub(super) fn entries(&self) -> Vec<(Key<'a>, Value<'a, 'i>)> {
        let mut entries: Vec<(&'a Spanned<DeString<'i>>, &'a Spanned<DeValue<'i>>)> =
            self.table.iter().collect();
        entries.sort_by_key(|(key, _)| key.span().start);
        let entry = |(key, value): (&'a Spanned<DeString<'i>>, &'a Spanned<DeValue<'i>>)| {
            (Key { name: key.get_ref().as_ref(), span: key.span() }, self.value(key.get_ref(), value))
        };
        entries.into_iter().map(entry).collect()
    }

    /// A warning for every key not in `known`, suggesting the closest known one.
    pub(super) fn warn_unknown_keys(
        &self,
        src: &Source<'_>,
        known: &[&str],
        warnings: &mut Vec<ConfigWarning>,
    ) {
        for (key, _) in self.entries().into_iter().filter(|(key, _)| !known.contains(&key.name)) {
            let suggestion = did_you_mean(key.name, known.iter().copied()).map(str::to_owned);
            let place = src.place(key.span.start, &self.path.key(key.name));
            warnings.push(ConfigWarning { place, kind: ConfigWarningKind::UnknownKey { suggestion } });
        }
    }
}
