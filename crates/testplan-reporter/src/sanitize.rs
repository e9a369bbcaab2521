//! The one sanitizer for text a test controls — its output, its name, an ignore reason, a
//! path — before a reporter writes it anywhere a reader's tool interprets it.
//!
//! | text | escape sequences (CSI, OSC, ...), BEL, NUL, DEL | other control characters | newline, tab |
//! |---|---|---|---|
//! | block ([`block`]: output) | removed | made visible | kept (`\r\n` becomes `\n`) |
//! | inline ([`inline`]: names, reasons, paths) | removed | made visible | made visible |
//!
//! Escape sequences are parsed as a terminal would (anstream's parser, the one clap uses),
//! so an OSC title or link goes with its payload. Visible forms: caret notation for the C0
//! controls left (a lone carriage return `^M`, form feed `^L`, newline `^J` inline),
//! `\u{9b}` for C1 controls, bidirectional overrides (`\u{202e}`) and the non-characters
//! XML cannot hold (`\u{fffe}`). So a test can neither clear the screen, set the window
//! title, plant a link or a colour, nor hide text behind `\r`; what it printed stays
//! readable. Colour in the terminal is only ever the reporter's own.
//!
//! On top of these rules, Markdown needs its own quoting ([`md_code_block`],
//! [`md_code_span`], [`md_text`], [`html`]), so a test's text never closes a fence or a
//! `<details>` block, or renders as Markdown or HTML. JUnit gets the block rules; quick-junit
//! escapes XML.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Multi-line text (a test's output): escape sequences removed, control characters other
/// than newline and tab made visible.
pub fn block(text: &str) -> Cow<'_, str> {
    clean(text, false)
}

/// One-line text (a test name, a reason, a path): escape sequences removed, every control
/// character made visible, newlines and tabs included.
pub fn inline(text: &str) -> Cow<'_, str> {
    clean(text, true)
}

fn clean(text: &str, inline: bool) -> Cow<'_, str> {
    let kept = |c: char| !inline && (c == '\n' || c == '\t');
    if !text.chars().any(|c| is_unsafe(c) && !kept(c)) {
        return Cow::Borrowed(text);
    }
    let stripped = anstream::adapter::strip_str(text).to_string();
    let mut out = String::with_capacity(stripped.len());
    let mut chars = stripped.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && !inline && chars.peek() == Some(&'\n') {
            continue;
        }
        if is_unsafe(c) && !kept(c) {
            push_visible(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Characters a terminal, a Markdown renderer or an XML parser would act on or reject.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fffe}' | '\u{ffff}')
}

fn push_visible(c: char, out: &mut String) {
    match c as u32 {
        n @ 0..=0x1f => {
            out.push('^');
            out.push(char::from(b'@' + n as u8));
        }
        0x7f => out.push_str("^?"),
        n => {
            let _ = write!(out, "\\u{{{n:x}}}");
        }
    }
}

/// A fenced Markdown code block holding `text` (sanitized as a block): the fence is one
/// backtick longer than the longest run of backticks in the text (at least three), so no
/// line of the text can close it.
pub fn md_code_block(text: &str, info: &str) -> String {
    let text = block(text);
    let fence = "`".repeat(longest_backtick_run(&text).max(2) + 1);
    format!("{fence}{info}\n{text}\n{fence}")
}

/// An inline code span holding `text` (sanitized as inline): delimited by more backticks
/// than any run inside it, padded with a space where the text starts or ends with a
/// backtick. In a table cell, escape its pipes too (`\|`, which GFM reads as a pipe even
/// inside code): a code span does not protect them there.
pub fn md_code_span(text: &str) -> String {
    let text = inline(text);
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() { " " } else { "" };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// Plain Markdown text within a line (sanitized as inline): the characters that open
/// emphasis, code, links, tables cells, strikethrough or GitHub's math are backslash-escaped;
/// `<`, `>` and `&` become entities, so no HTML tag or entity survives. (Line-start syntax —
/// headings, lists — cannot occur: this text never starts a line.)
pub fn md_text(text: &str) -> String {
    let text = inline(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text inside HTML (a `<summary>`; sanitized as inline, so it stays on its line and cannot
/// end the HTML block): `&`, `<`, `>` and `"` as entities.
pub fn html(text: &str) -> String {
    inline(text).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn longest_backtick_run(text: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_go_and_controls_become_visible() {
        let cases = [
            ("plain\ttext\n", "plain\ttext\n"),
            ("\x1b[31mred\x1b[0m", "red"),
            ("\x1b]0;title\x07after", "after"),
            ("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"),
            ("\x1b[2J\x1b[Hcleared", "cleared"),
            ("bell\x07 nul\0 del\x7f", "bell nul del"),
            ("form\x0cfeed", "form^Lfeed"),
            ("windows\r\nline", "windows\nline"),
            ("progress 10%\rFAKE PASS", "progress 10%^MFAKE PASS"),
            ("c1 \u{9b}31m csi", "c1 \\u{9b}31m csi"),
            ("bidi \u{202e}desrever", "bidi \\u{202e}desrever"),
            ("xml \u{fffe}", "xml \\u{fffe}"),
            ("trailing escape \x1b", "trailing escape "),
            ("unicode é ✅ stays", "unicode é ✅ stays"),
        ];
        for (input, expected) in cases {
            assert_eq!(block(input), expected, "{input:?}");
        }
        assert_eq!(inline("a\nb\tc\x1b[1m"), "a^Jb^Ic");
        assert!(matches!(block("nothing to do\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn markdown_quoting() {
        assert_eq!(md_code_block("a\n````\nb", "text"), "`````text\na\n````\nb\n`````");
        assert_eq!(md_code_block("no ticks", ""), "```\nno ticks\n```");
        assert_eq!(md_code_span("tests::plain"), "`tests::plain`");
        assert_eq!(md_code_span("a`b"), "``a`b``");
        assert_eq!(md_code_span("`edge`"), "`` `edge` ``");
        assert_eq!(md_code_span("a\nb"), "`a^Jb`");
        assert_eq!(md_text("<script>*x*</script>"), "&lt;script&gt;\\*x\\*&lt;/script&gt;");
        assert_eq!(md_text("ignored: needs [net](x) $x$"), "ignored: needs \\[net\\](x) \\$x\\$");
        assert_eq!(html("</details>\n\"x\" & y"), "&lt;/details&gt;^J&quot;x&quot; &amp; y");
    }
}
