//! Expression errors: one message, the column it concerns, and a caret rendering.

use std::fmt;

use crate::marker::UnknownMarker;

/// What is wrong with an expression. Its `Display` is the one-line message (used as-is in
/// configuration errors, which add their own location).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExprErrorKind {
    /// Nothing but whitespace.
    #[error("empty expression")]
    Empty,
    /// An operand was needed (after an operator, after `(`, or at the start).
    #[error("expected {noun} or '('{}{}", after.as_ref().map(|a| format!(" after '{a}'")).unwrap_or_default(), found.as_ref().map(|f| format!(", found '{f}'")).unwrap_or_default())]
    ExpectedOperand {
        /// `a marker name` or `a keyword`.
        noun: &'static str,
        /// The token before, if any.
        after: Option<String>,
        /// The token found instead; `None` at the end of the text.
        found: Option<String>,
    },
    /// Two operands in a row: `slow fast`, `slow not fast`, `slow (fast)`.
    #[error("expected {} before '{found}'", if *in_parens { "'and', 'or' or ')'" } else { "'and' or 'or'" })]
    ExpectedOperator {
        /// The token found instead.
        found: String,
        /// Inside parentheses, where `)` would also do.
        in_parens: bool,
    },
    /// A `(` without its `)`; the column is the `(`'s.
    #[error("unbalanced parenthesis: this '(' is never closed")]
    UnclosedParen,
    /// A `)` without its `(`.
    #[error("unexpected ')' without a matching '('")]
    UnexpectedClose,
    /// A character that belongs to no token.
    #[error("unexpected character '{character}'{}", hint.map(|h| format!(" (use '{h}')")).unwrap_or_default())]
    UnexpectedCharacter {
        /// The character.
        character: char,
        /// The operator meant, for `&`, `|`, `!`.
        hint: Option<&'static str>,
    },
    /// A word that cannot be a marker name (`Slow`, `2fast`).
    #[error("invalid marker name '{name}': use lowercase letters, digits and '-', starting with a letter")]
    InvalidMarkerName {
        /// The word.
        name: String,
    },
    /// A marker name that is not registered.
    #[error(transparent)]
    UnknownMarker(UnknownMarker),
    /// Parentheses or `not`s nested beyond the limit.
    #[error("expression nests too deeply (more than {limit} levels)")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// More tokens than the limit.
    #[error("expression is too long (more than {limit} words and symbols)")]
    TooLong {
        /// The limit.
        limit: usize,
    },
}

/// An invalid expression: what is wrong and where. `Display` renders the message, the text
/// and a caret under the column, ready to follow `error: `:
///
/// ```text
/// invalid marker expression: expected a marker name or '(' after 'and'
///   integration and
///                  ^ column 16
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    language: &'static str,
    text: String,
    column: usize,
    kind: ExprErrorKind,
}

impl ExprError {
    pub(super) fn new(language: &'static str, text: &str, column: usize, kind: ExprErrorKind) -> ExprError {
        ExprError { language, text: text.to_owned(), column, kind }
    }

    /// What is wrong.
    pub fn kind(&self) -> &ExprErrorKind {
        &self.kind
    }

    /// 1-based column, in characters, of the offending token (one past the end when the
    /// text ended too early).
    pub fn column(&self) -> usize {
        self.column
    }

    /// The expression text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Control characters would break the caret's alignment.
        let shown: String = self.text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        writeln!(f, "invalid {}: {}", self.language, self.kind)?;
        writeln!(f, "  {shown}")?;
        write!(f, "  {:width$}^ column {}", "", self.column, width = self.column - 1)
    }
}

// No `source()`: the message already includes the kind, and a cause chain would repeat it.
impl std::error::Error for ExprError {}
