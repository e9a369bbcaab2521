//! Recursive-descent parser over the tokens of [`super::lexer`], with limits on nesting and
//! length so that hostile input cannot overflow the stack.

use super::lexer::{Token, TokenKind, tokenize};
use super::{Atom, Expr, ExprError, ExprErrorKind};
use crate::marker::{MarkerName, UnknownMarker};

/// Deepest nesting of `(` and `not`.
const MAX_DEPTH: usize = 64;
/// Most tokens in one expression (bounds the depth of `a and b and ...` chains too).
const MAX_TOKENS: usize = 1000;

/// Parses `text` in the language of `A`.
pub(super) fn parse<A: Atom>(text: &str) -> Result<Expr<A>, ExprError> {
    let error = |column, kind| ExprError::new(A::LANGUAGE, text, column, kind);
    let tokens = tokenize::<A>(text).map_err(|lex| error(lex.column, lex.kind))?;
    if let Some(token) = tokens.get(MAX_TOKENS) {
        return Err(error(token.column, ExprErrorKind::TooLong { limit: MAX_TOKENS }));
    }
    if tokens.is_empty() {
        return Err(error(1, ExprErrorKind::Empty));
    }
    let end_column = text.chars().count() + 1;
    let mut parser = Parser { tokens, pos: 0, depth: 0, end_column };
    parser.parse_top().map_err(|(column, kind)| error(column, kind))
}

/// The error for the first unknown marker, at the column where it is written.
pub(super) fn unknown_marker_error(text: &str, unknown: UnknownMarker) -> ExprError {
    let tokens = tokenize::<MarkerName>(text).unwrap_or_default();
    let is_it = |token: &&Token| match &token.kind {
        TokenKind::Word(word) => MarkerName::new(word).is_ok_and(|name| name.as_str() == unknown.name),
        _ => false,
    };
    let column = tokens.iter().find(is_it).map_or(1, |token| token.column);
    let name = tokens.iter().find(is_it).map_or(unknown.name.clone(), |token| token.text().to_owned());
    let kind = ExprErrorKind::UnknownMarker(UnknownMarker { name, ..unknown });
    ExprError::new(MarkerName::LANGUAGE, text, column, kind)
}

/// A parse failure: column and kind.
type Failure = (usize, ExprErrorKind);

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_kind(&self) -> Option<&TokenKind> {
        self.peek().map(|token| &token.kind)
    }

    /// The whole text: one expression, then nothing.
    fn parse_top<A: Atom>(&mut self) -> Result<Expr<A>, Failure> {
        let expr = self.parse_or()?;
        match self.peek() {
            None => Ok(expr),
            Some(token) if token.kind == TokenKind::Close => {
                Err((token.column, ExprErrorKind::UnexpectedClose))
            }
            Some(token) => Err(expected_operator(token, false)),
        }
    }

    fn parse_or<A: Atom>(&mut self) -> Result<Expr<A>, Failure> {
        let mut left = self.parse_and()?;
        while self.peek_kind() == Some(&TokenKind::Or) {
            self.pos += 1;
            left = left.or(self.parse_and()?);
        }
        Ok(left)
    }

    fn parse_and<A: Atom>(&mut self) -> Result<Expr<A>, Failure> {
        let mut left = self.parse_not()?;
        while self.peek_kind() == Some(&TokenKind::And) {
            self.pos += 1;
            left = left.and(self.parse_not()?);
        }
        Ok(left)
    }

    fn parse_not<A: Atom>(&mut self) -> Result<Expr<A>, Failure> {
        match self.peek() {
            Some(token) if token.kind == TokenKind::Not => {
                let column = token.column;
                self.nested(column, |parser| Ok(parser.parse_not()?.negate()))
            }
            _ => self.parse_primary(),
        }
    }

    fn parse_primary<A: Atom>(&mut self) -> Result<Expr<A>, Failure> {
        let Some(token) = self.peek().cloned() else {
            return Err((self.end_column, self.expected_operand::<A>(None)));
        };
        match token.kind {
            TokenKind::Word(word) => {
                self.pos += 1;
                A::from_word(&word).map(Expr::Atom).map_err(|kind| (token.column, kind))
            }
            TokenKind::Open => self.nested(token.column, |parser| parser.parse_group(token.column)),
            _ => Err((token.column, self.expected_operand::<A>(Some(token.text())))),
        }
    }

    /// After `(`: an expression and its `)`.
    fn parse_group<A: Atom>(&mut self, open_column: usize) -> Result<Expr<A>, Failure> {
        let expr = self.parse_or()?;
        match self.peek() {
            Some(token) if token.kind == TokenKind::Close => {
                self.pos += 1;
                Ok(expr)
            }
            Some(token) => Err(expected_operator(token, true)),
            None => Err((open_column, ExprErrorKind::UnclosedParen)),
        }
    }

    /// Consumes the `(` or `not` at the cursor and parses what it governs one level deeper.
    fn nested<A: Atom>(
        &mut self,
        column: usize,
        inner: impl FnOnce(&mut Self) -> Result<Expr<A>, Failure>,
    ) -> Result<Expr<A>, Failure> {
        if self.depth == MAX_DEPTH {
            return Err((column, ExprErrorKind::TooDeep { limit: MAX_DEPTH }));
        }
        self.pos += 1;
        self.depth += 1;
        let result = inner(self);
        self.depth -= 1;
        result
    }

    /// "expected a marker name or '(' [after 'x'][, found 'y']".
    fn expected_operand<A: Atom>(&self, found: Option<&str>) -> ExprErrorKind {
        let after = self.pos.checked_sub(1).map(|i| self.tokens[i].text().to_owned());
        ExprErrorKind::ExpectedOperand { noun: A::NOUN, after, found: found.map(str::to_owned) }
    }
}

fn expected_operator(token: &Token, in_parens: bool) -> Failure {
    (token.column, ExprErrorKind::ExpectedOperator { found: token.text().to_owned(), in_parens })
}
