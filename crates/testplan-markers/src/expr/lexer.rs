//! Splits expression text into tokens, each with its 1-based column (in characters).

use super::{Atom, ExprErrorKind};

/// A token kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum TokenKind {
    /// A word that is not an operator (validated into an atom by the parser).
    Word(String),
    And,
    Or,
    Not,
    Open,
    Close,
}

/// A token and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    pub(super) column: usize,
}

impl Token {
    /// The token as written, for messages.
    pub(super) fn text(&self) -> &str {
        match &self.kind {
            TokenKind::Word(word) => word,
            TokenKind::And => "and",
            TokenKind::Or => "or",
            TokenKind::Not => "not",
            TokenKind::Open => "(",
            TokenKind::Close => ")",
        }
    }
}

/// A character that cannot start a token, and its column.
#[derive(Debug)]
pub(super) struct LexError {
    pub(super) kind: ExprErrorKind,
    pub(super) column: usize,
}

/// Tokenises `text` for the language of `A`.
pub(super) fn tokenize<A: Atom>(text: &str) -> Result<Vec<Token>, LexError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let kind = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => TokenKind::Open,
            ')' => TokenKind::Close,
            c if A::is_atom_char(c) => {
                let len = chars[i..].iter().take_while(|c| A::is_atom_char(**c)).count();
                let word: String = chars[i..i + len].iter().collect();
                i += len;
                tokens.push(Token { kind: word_kind(word), column });
                continue;
            }
            c => return Err(LexError { kind: unexpected_character(c), column }),
        };
        tokens.push(Token { kind, column });
        i += 1;
    }
    Ok(tokens)
}

fn word_kind(word: String) -> TokenKind {
    match word.as_str() {
        "and" => TokenKind::And,
        "or" => TokenKind::Or,
        "not" => TokenKind::Not,
        _ => TokenKind::Word(word),
    }
}

/// The error for a stray character, pointing C-style operators to their spelling here.
fn unexpected_character(c: char) -> ExprErrorKind {
    let hint = match c {
        '&' => Some("and"),
        '|' => Some("or"),
        '!' | '~' => Some("not"),
        _ => None,
    };
    ExprErrorKind::UnexpectedCharacter { character: c, hint }
}
