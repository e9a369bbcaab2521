//! Bounded capture of a test's output: the first and last bytes are kept, the middle is
//! counted and dropped, so a test printing 100 MB cannot take the runner's memory with it.

/// Default bytes kept from the start of a test's output.
pub const DEFAULT_HEAD_BYTES: usize = 256 * 1024;
/// Default bytes kept from the end of a test's output.
pub const DEFAULT_TAIL_BYTES: usize = 256 * 1024;

/// Interleaved stdout+stderr of a test, possibly with its middle elided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapturedOutput {
    /// The first bytes.
    pub head: Vec<u8>,
    /// The last bytes (empty unless output exceeded the head).
    pub tail: Vec<u8>,
    /// Bytes dropped between head and tail.
    pub elided: u64,
}

impl CapturedOutput {
    /// The captured text, lossily decoded, with a marker where bytes were dropped.
    pub fn to_text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.head).into_owned();
        if self.elided > 0 {
            text.push_str(&format!("\n[... {} bytes of output elided ...]\n", self.elided));
        }
        text.push_str(&String::from_utf8_lossy(&self.tail));
        text
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.head.is_empty() && self.tail.is_empty() && self.elided == 0
    }
}

/// Accumulates output into a [`CapturedOutput`] within fixed limits.
#[derive(Debug)]
pub struct OutputBuffer {
    head_limit: usize,
    tail_limit: usize,
    out: CapturedOutput,
    // Ring buffer for the tail: `tail` holds up to `tail_limit` bytes, `tail_start` is the
    // index of the oldest byte once it is full.
    tail_start: usize,
}

impl Default for OutputBuffer {
    fn default() -> Self {
        Self::new(DEFAULT_HEAD_BYTES, DEFAULT_TAIL_BYTES)
    }
}

impl OutputBuffer {
    /// A buffer keeping `head_limit` bytes from the start and `tail_limit` from the end.
    pub fn new(head_limit: usize, tail_limit: usize) -> Self {
        OutputBuffer { head_limit, tail_limit, out: CapturedOutput::default(), tail_start: 0 }
    }

    /// Appends bytes.
    pub fn push(&mut self, mut bytes: &[u8]) {
        let room = self.head_limit.saturating_sub(self.out.head.len());
        if room > 0 {
            let n = room.min(bytes.len());
            self.out.head.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
        for &b in bytes {
            self.push_tail(b);
        }
    }

    fn push_tail(&mut self, b: u8) {
        if self.tail_limit == 0 {
            self.out.elided += 1;
        } else if self.out.tail.len() < self.tail_limit {
            self.out.tail.push(b);
        } else {
            self.out.tail[self.tail_start] = b;
            self.tail_start = (self.tail_start + 1) % self.tail_limit;
            self.out.elided += 1;
        }
    }

    /// Total bytes seen so far (kept or elided).
    pub fn total_len(&self) -> u64 {
        (self.out.head.len() + self.out.tail.len()) as u64 + self.out.elided
    }

    /// The captured output.
    pub fn finish(mut self) -> CapturedOutput {
        self.out.tail.rotate_left(self.tail_start);
        self.out
    }

    /// A copy of what has been captured so far.
    pub fn snapshot(&self) -> CapturedOutput {
        let mut out = self.out.clone();
        out.tail.rotate_left(self.tail_start);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_output_is_kept_whole() {
        let mut buf = OutputBuffer::new(8, 8);
        buf.push(b"hello");
        let out = buf.finish();
        assert_eq!(out.to_text(), "hello");
    }

    #[test]
    fn large_output_keeps_head_and_tail() {
        let mut buf = OutputBuffer::new(4, 4);
        buf.push(b"abcdefghij");
        buf.push(b"klmnop");
        assert_eq!(buf.total_len(), 16);
        let out = buf.finish();
        assert_eq!(out.head, b"abcd");
        assert_eq!(out.tail, b"mnop");
        assert_eq!(out.elided, 8);
        assert_eq!(out.to_text(), "abcd\n[... 8 bytes of output elided ...]\nmnop");
    }

    #[test]
    fn memory_stays_bounded() {
        let mut buf = OutputBuffer::new(16, 16);
        let chunk = vec![b'x'; 4096];
        for _ in 0..1000 {
            buf.push(&chunk);
        }
        let out = buf.finish();
        assert_eq!(out.head.len() + out.tail.len(), 32);
        assert_eq!(out.elided, 4096 * 1000 - 32);
    }
}
