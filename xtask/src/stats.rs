//! Medians, ratios and the Markdown tables the harness prints.

use std::time::Duration;

/// The median of `samples` (the mean of the middle two for an even count).
pub fn median(samples: &[Duration]) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

/// Seconds with three decimals.
pub fn secs(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

/// `a / b` with two decimals (three below 0.1), or `–` when either is missing.
pub fn ratio(a: Option<Duration>, b: Option<Duration>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if !b.is_zero() => {
            let r = a.as_secs_f64() / b.as_secs_f64();
            if r < 0.1 { format!("{r:.3}") } else { format!("{r:.2}") }
        }
        _ => "–".to_owned(),
    }
}

/// KiB as MiB with one decimal.
pub fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "–".to_owned(), |kib| format!("{:.1}", kib as f64 / 1024.0))
}

/// A Markdown table.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let rule: Vec<String> = header.iter().map(|_| "---".to_owned()).collect();
    let mut out = line(&header);
    out.push_str(&line(&rule));
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn medians() {
        let cases: [(&[u64], Option<u64>); 4] =
            [(&[], None), (&[5], Some(5)), (&[9, 1, 5], Some(5)), (&[4, 1, 2, 8], Some(3))];
        for (samples, expected) in cases {
            assert_eq!(median(&ms(samples)), expected.map(Duration::from_millis), "{samples:?}");
        }
    }

    #[test]
    fn formatting() {
        let s = |v: u64| Some(Duration::from_millis(v));
        assert_eq!(ratio(s(500), s(1000)), "0.50");
        assert_eq!(ratio(s(23), s(1000)), "0.023");
        assert_eq!(ratio(s(2100), s(1000)), "2.10");
        assert_eq!(ratio(None, s(1)), "–");
        assert_eq!(ratio(s(1), s(0)), "–");
        assert_eq!(secs(Duration::from_millis(1234)), "1.234");
        assert_eq!(mib(Some(1536)), "1.5");
        assert_eq!(mib(None), "–");
        assert_eq!(
            table(&["a", "b"], &[vec!["1".into(), "2".into()]]),
            "| a | b |\n| --- | --- |\n| 1 | 2 |\n"
        );
    }
}
