//! Byte sizes as people read them: `3.1 GiB`, `512 MiB`.
//!
//! Sizes are truncated (never rounded up) to one decimal, so a line such as
//! `1.9 GiB usable / 1 GiB per test` never shows more memory than there is.

/// One kibibyte.
pub const KIB: u64 = 1 << 10;
/// One mebibyte.
pub const MIB: u64 = 1 << 20;
/// One gibibyte.
pub const GIB: u64 = 1 << 30;

/// `bytes` in the largest binary unit it reaches, truncated to one decimal: `3.1 GiB`,
/// `24.0 GiB`, `512.0 MiB`, `900 B`.
pub fn format_size(bytes: u64) -> String {
    match unit_of(bytes) {
        Some((unit, name)) => format!("{} {name}", tenths(bytes, unit)),
        None => format!("{bytes} B"),
    }
}

/// Like [`format_size`], but whole amounts lose the decimal: `1 GiB`, `512 MiB`, `1.5 GiB`.
/// Used for configured amounts (a per-test estimate), which are usually round.
pub fn format_size_compact(bytes: u64) -> String {
    match unit_of(bytes) {
        Some((unit, name)) if bytes.is_multiple_of(unit) => format!("{} {name}", bytes / unit),
        _ => format_size(bytes),
    }
}

fn unit_of(bytes: u64) -> Option<(u64, &'static str)> {
    [(GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")].into_iter().find(|&(unit, _)| bytes >= unit)
}

/// `bytes / unit` with one decimal, truncated, in integer arithmetic (no float surprises).
fn tenths(bytes: u64, unit: u64) -> String {
    let tenths = u128::from(bytes) * 10 / u128::from(unit);
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_truncated_to_one_decimal() {
        let cases = [
            (0, "0 B"),
            (900, "900 B"),
            (KIB, "1.0 KiB"),
            (512 * MIB, "512.0 MiB"),
            (GIB, "1.0 GiB"),
            (GIB * 31 / 10 + 1, "3.1 GiB"),
            (2 * GIB - 1, "1.9 GiB"),
            (24_684_092 * KIB, "23.5 GiB"),
            (u64::MAX, "17179869183.9 GiB"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(format_size(bytes), expected, "{bytes}");
        }
    }

    #[test]
    fn compact_sizes_drop_the_decimal_of_whole_amounts() {
        let cases = [(GIB, "1 GiB"), (512 * MIB, "512 MiB"), (3 * GIB / 2, "1.5 GiB"), (100, "100 B")];
        for (bytes, expected) in cases {
            assert_eq!(format_size_compact(bytes), expected, "{bytes}");
        }
    }
}
