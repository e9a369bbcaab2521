//! Small text helpers shared by the parsers of listing and test output.

/// Removes terminal escape sequences — CSI (`ESC [ ... letter`, colours), OSC (`ESC ] ...
/// BEL`, window titles and links, payload included), and the rest — in case colour was
/// forced on the output of a harness or of cargo, or a test printed them. The parser is
/// anstream's (the reporters' sanitizer uses it too); it also drops BEL, NUL and DEL, and
/// keeps tabs.
pub(crate) fn strip_ansi(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\x1b') {
        return line.into();
    }
    anstream::adapter::strip_str(line).to_string().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_go_with_their_payload() {
        assert_eq!(strip_ansi("\x1b[1m\x1b[32mok\x1b[0m"), "ok");
        assert_eq!(strip_ansi("a\x1b]0;title\x07b\x1b]8;;http://x\x1b\\c"), "abc");
        assert_eq!(strip_ansi("\ttab \x1b[2Jkept"), "\ttab kept");
    }
}
