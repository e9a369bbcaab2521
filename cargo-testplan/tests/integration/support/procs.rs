//! Looking for processes a run left behind, by a marker string in their command line or
//! environment (`/proc/PID/cmdline`, `/proc/PID/environ`; Linux only).

use std::time::{Duration, Instant};

/// Live processes whose command line or environment contains `marker`: (pid, command line).
pub fn processes_with_marker(marker: &str) -> Vec<(u32, String)> {
    let me = std::process::id();
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return found };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        // Zombies have an empty command line: they are gone, only not yet reaped.
        if cmdline.is_empty() {
            continue;
        }
        let contains = |bytes: &[u8]| bytes.windows(marker.len()).any(|w| w == marker.as_bytes());
        if contains(&cmdline) || contains(&environ) {
            let shown = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            found.push((pid, shown.trim_end().to_owned()));
        }
    }
    found
}

/// Waits up to `grace` for every process with `marker` to go (a killed process may take a
/// moment to be reaped), returning those still there.
pub fn survivors_after(marker: &str, grace: Duration) -> Vec<(u32, String)> {
    let deadline = Instant::now() + grace;
    loop {
        let found = processes_with_marker(marker);
        if found.is_empty() || Instant::now() >= deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A string unique to this test run, to tag processes with.
pub fn unique_marker(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}{}{nanos:09}", std::process::id())
}
