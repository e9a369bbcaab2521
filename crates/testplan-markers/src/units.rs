//! Human-written quantities in the configuration: durations (`300ms`, `5s`, `2m`, `1h`,
//! `1m30s`) and byte sizes (`512MiB`, `2GiB`, `1.5GB`, or a plain number of bytes).
//!
//! Both must be greater than zero: a zero timeout or memory limit is always a mistake.

use std::fmt;
use std::time::Duration;

/// Why a duration or byte size did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// Not of the form `<number><unit>...`.
    #[error("invalid duration '{0}': expected a number with a unit ms, s, m or h (300ms, 5s, 2m, 1h, 1m30s)")]
    Duration(String),
    /// Not of the form `<number>[unit]`.
    #[error("invalid size '{0}': expected bytes or a number with a unit (512MiB, 2GiB, 1.5GB, 4096)")]
    ByteSize(String),
    /// Parsed to zero.
    #[error("'{0}' must be greater than zero")]
    Zero(String),
    /// Too large to represent.
    #[error("'{0}' is too large")]
    TooLarge(String),
}

/// Parses a duration such as `300ms`, `5s`, `2m`, `1h`, `1.5h` or `1m30s`.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let invalid = || UnitError::Duration(text.to_owned());
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut seconds = 0.0_f64;
    while !rest.is_empty() {
        let (number, after_number) = split_number(rest).ok_or_else(invalid)?;
        let unit_len = after_number.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after_number.len());
        let scale = duration_unit(&after_number[..unit_len]).ok_or_else(invalid)?;
        seconds += number * scale;
        rest = after_number[unit_len..].trim_start();
    }
    positive_duration(text, seconds)
}

/// Seconds per duration unit.
fn duration_unit(unit: &str) -> Option<f64> {
    match unit {
        "ms" => Some(0.001),
        "s" => Some(1.0),
        "m" => Some(60.0),
        "h" => Some(3600.0),
        _ => None,
    }
}

fn positive_duration(text: &str, seconds: f64) -> Result<Duration, UnitError> {
    let duration = Duration::try_from_secs_f64(seconds).map_err(|_| UnitError::TooLarge(text.to_owned()))?;
    if duration.is_zero() {
        return Err(UnitError::Zero(text.to_owned()));
    }
    Ok(duration)
}

/// Splits a leading unsigned decimal number (`12`, `1.5`) off `text`.
fn split_number(text: &str) -> Option<(f64, &str)> {
    let end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let digits = &text[..end];
    if digits.is_empty() || digits.starts_with('.') || digits.ends_with('.') {
        return None;
    }
    digits.parse().ok().map(|number| (number, &text[end..]))
}

/// Formats a duration the way it is written in the configuration (`1m30s`, `300ms`).
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if !millis.is_multiple_of(1000) || millis == 0 {
        return format!("{millis}ms");
    }
    let secs = millis / 1000;
    let parts = [(secs / 3600, "h"), (secs % 3600 / 60, "m"), (secs % 60, "s")];
    parts.iter().filter(|(n, _)| *n > 0).map(|(n, unit)| format!("{n}{unit}")).collect()
}

/// An amount of memory in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// One kibibyte.
    pub const KIB: u64 = 1024;
    /// One mebibyte.
    pub const MIB: u64 = 1024 * 1024;
    /// One gibibyte.
    pub const GIB: u64 = 1024 * 1024 * 1024;

    /// Parses `512MiB`, `2GiB`, `1.5GB`, `2 gib` or a plain number of bytes. Units are
    /// case-insensitive: B, kB/KiB, MB/MiB, GB/GiB, TB/TiB (decimal and binary).
    pub fn parse(text: &str) -> Result<ByteSize, UnitError> {
        let invalid = || UnitError::ByteSize(text.to_owned());
        let (number, unit) = split_number(text.trim()).ok_or_else(invalid)?;
        let scale = byte_unit(&unit.trim().to_ascii_lowercase()).ok_or_else(invalid)?;
        let bytes = (number * scale as f64).round();
        if bytes >= u64::MAX as f64 {
            return Err(UnitError::TooLarge(text.to_owned()));
        }
        match bytes as u64 {
            0 => Err(UnitError::Zero(text.to_owned())),
            bytes => Ok(ByteSize(bytes)),
        }
    }

    /// The number of bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}

/// Bytes per (lowercased) size unit.
fn byte_unit(unit: &str) -> Option<u64> {
    let scale = match unit {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" => 1 << 10,
        "mb" => 1000 * 1000,
        "mib" => 1 << 20,
        "gb" => 1000 * 1000 * 1000,
        "gib" => 1 << 30,
        "tb" => 1000 * 1000 * 1000 * 1000,
        "tib" => 1 << 40,
        _ => return None,
    };
    Some(scale)
}

impl fmt::Display for ByteSize {
    /// Binary units with at most one decimal: `512 MiB`, `1.5 GiB`, `900 B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 4] =
            [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        let Some((scale, unit)) = UNITS.iter().find(|(scale, _)| self.0 >= *scale) else {
            return write!(f, "{} B", self.0);
        };
        let value = self.0 as f64 / *scale as f64;
        let text = format!("{value:.1}");
        write!(f, "{} {unit}", text.strip_suffix(".0").unwrap_or(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = [
            ("300ms", 300),
            ("5s", 5_000),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("1.5h", 5_400_000),
            ("1m30s", 90_000),
            ("1m 30s", 90_000),
            (" 10s ", 10_000),
        ];
        for (text, millis) in ok {
            assert_eq!(parse_duration(text), Ok(Duration::from_millis(millis)), "{text}");
        }
    }

    #[test]
    fn duration_errors() {
        let cases = [
            (
                "",
                "invalid duration '': expected a number with a unit ms, s, m or h (300ms, 5s, 2m, 1h, 1m30s)",
            ),
            (
                "5",
                "invalid duration '5': expected a number with a unit ms, s, m or h (300ms, 5s, 2m, 1h, 1m30s)",
            ),
            (
                "5 minutes",
                "invalid duration '5 minutes': expected a number with a unit ms, s, m or h (300ms, 5s, 2m, 1h, 1m30s)",
            ),
            (
                "-5s",
                "invalid duration '-5s': expected a number with a unit ms, s, m or h (300ms, 5s, 2m, 1h, 1m30s)",
            ),
            (
                ".5s",
                "invalid duration '.5s': expected a number with a unit ms, s, m or h (300ms, 5s, 2m, 1h, 1m30s)",
            ),
            ("0s", "'0s' must be greater than zero"),
            ("99999999999999999999999h", "'99999999999999999999999h' is too large"),
        ];
        for (text, message) in cases {
            assert_eq!(parse_duration(text).map_err(|e| e.to_string()), Err(message.to_owned()), "{text}");
        }
    }

    #[test]
    fn duration_round_trip() {
        for text in ["300ms", "5s", "2m", "1h", "1h30m", "1m5s", "1500ms"] {
            let duration = parse_duration(text).map_err(|e| e.to_string());
            assert_eq!(duration.map(format_duration), Ok(text.to_owned()));
        }
    }

    #[test]
    fn byte_sizes() {
        let ok = [
            ("512MiB", 512 << 20),
            ("2GiB", 2 << 30),
            ("2 gib", 2 << 30),
            ("1.5GB", 1_500_000_000),
            ("4096", 4096),
            ("10kB", 10_000),
            ("1TiB", 1 << 40),
            ("100B", 100),
        ];
        for (text, bytes) in ok {
            assert_eq!(ByteSize::parse(text), Ok(ByteSize(bytes)), "{text}");
        }
    }

    #[test]
    fn byte_size_errors() {
        let cases = [
            (
                "2 GB of RAM",
                "invalid size '2 GB of RAM': expected bytes or a number with a unit (512MiB, 2GiB, 1.5GB, 4096)",
            ),
            (
                "lots",
                "invalid size 'lots': expected bytes or a number with a unit (512MiB, 2GiB, 1.5GB, 4096)",
            ),
            ("2XB", "invalid size '2XB': expected bytes or a number with a unit (512MiB, 2GiB, 1.5GB, 4096)"),
            ("0MiB", "'0MiB' must be greater than zero"),
            ("99999999TiB", "'99999999TiB' is too large"),
        ];
        for (text, message) in cases {
            assert_eq!(ByteSize::parse(text).map_err(|e| e.to_string()), Err(message.to_owned()), "{text}");
        }
    }

    #[test]
    fn byte_size_display() {
        let cases = [(900, "900 B"), (512 << 20, "512 MiB"), (3 << 29, "1.5 GiB"), (2 << 30, "2 GiB")];
        for (bytes, text) in cases {
            assert_eq!(ByteSize(bytes).to_string(), text);
        }
    }
}
