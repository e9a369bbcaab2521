//! Selection expressions: pytest's `-m` grammar over marker names and the same grammar over
//! name keywords for `-k`.
//!
//! ```text
//! expr    := and_expr ("or" and_expr)*
//! and_expr := not_expr ("and" not_expr)*
//! not_expr := "not" not_expr | primary
//! primary := ATOM | "(" expr ")"
//! ```
//!
//! `not` binds tighter than `and`, `and` tighter than `or`; binary operators associate to
//! the left. One parser serves both languages; they differ only in their atoms ([`Atom`]):
//! marker names (`-m`) or keywords matched as case-insensitive substrings of a test name
//! (`-k`). Checking marker names against a registry is a separate step
//! ([`MarkerExpr::validate`], or [`MarkerExpr::parse_checked`] for both at once).

mod error;
mod lexer;
mod parser;

use std::fmt;

pub use error::{ExprError, ExprErrorKind};

use crate::marker::{InvalidMarkerName, MarkerName, MarkerRegistry, MarkerSet, UnknownMarker};

/// A boolean expression over atoms of type `A`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr<A> {
    /// A marker name or keyword.
    Atom(A),
    /// `not e`.
    Not(Box<Expr<A>>),
    /// `a and b`.
    And(Box<Expr<A>>, Box<Expr<A>>),
    /// `a or b`.
    Or(Box<Expr<A>>, Box<Expr<A>>),
}

/// A `-m` expression over marker names.
pub type MarkerExpr = Expr<MarkerName>;

/// A `-k` expression over name keywords.
pub type KeywordExpr = Expr<Keyword>;

/// What an expression language's atoms are.
pub trait Atom: Sized + fmt::Display {
    /// The language, for messages: `marker expression`.
    const LANGUAGE: &'static str;
    /// What an atom is called, for messages: `a marker name`.
    const NOUN: &'static str;

    /// Whether `c` may appear in an atom.
    fn is_atom_char(c: char) -> bool;

    /// Builds an atom from a maximal run of atom characters that is not an operator.
    fn from_word(word: &str) -> Result<Self, ExprErrorKind>;
}

impl Atom for MarkerName {
    const LANGUAGE: &'static str = "marker expression";
    const NOUN: &'static str = "a marker name";

    fn is_atom_char(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '-' || c == '_'
    }

    fn from_word(word: &str) -> Result<Self, ExprErrorKind> {
        MarkerName::new(word).map_err(|InvalidMarkerName(name)| ExprErrorKind::InvalidMarkerName { name })
    }
}

/// A `-k` keyword: matched as a case-insensitive substring of the full test name. Any run
/// of characters other than whitespace and parentheses that is not `and`, `or` or `not`.
/// It keeps its spelling for display (`oR` is a keyword, not the operator, and must print
/// back as such).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Keyword {
    text: Box<str>,
    lowercase: Box<str>,
}

impl Keyword {
    /// The keyword as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether it occurs in `name`, which the caller has lowercased.
    fn occurs_in(&self, lowercase_name: &str) -> bool {
        lowercase_name.contains(&*self.lowercase)
    }
}

impl fmt::Display for Keyword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Atom for Keyword {
    const LANGUAGE: &'static str = "keyword expression";
    const NOUN: &'static str = "a keyword";

    fn is_atom_char(c: char) -> bool {
        !(c.is_whitespace() || c == '(' || c == ')')
    }

    fn from_word(word: &str) -> Result<Self, ExprErrorKind> {
        Ok(Keyword { text: word.into(), lowercase: word.to_lowercase().into() })
    }
}

impl<A: Atom> Expr<A> {
    /// Parses an expression; see the module documentation for the grammar.
    pub fn parse(text: &str) -> Result<Expr<A>, ExprError> {
        parser::parse(text)
    }
}

impl<A> Expr<A> {
    /// Evaluates the expression, `has` saying whether an atom holds.
    pub fn eval(&self, has: impl Fn(&A) -> bool) -> bool {
        self.eval_with(&has)
    }

    fn eval_with<F: Fn(&A) -> bool>(&self, has: &F) -> bool {
        match self {
            Expr::Atom(atom) => has(atom),
            Expr::Not(inner) => !inner.eval_with(has),
            Expr::And(left, right) => left.eval_with(has) && right.eval_with(has),
            Expr::Or(left, right) => left.eval_with(has) || right.eval_with(has),
        }
    }

    /// The atoms, left to right as written (repeats included).
    pub fn atoms(&self) -> Vec<&A> {
        let mut atoms = Vec::new();
        self.collect_atoms(&mut atoms);
        atoms
    }

    fn collect_atoms<'a>(&'a self, atoms: &mut Vec<&'a A>) {
        match self {
            Expr::Atom(atom) => atoms.push(atom),
            Expr::Not(inner) => inner.collect_atoms(atoms),
            Expr::And(left, right) | Expr::Or(left, right) => {
                left.collect_atoms(atoms);
                right.collect_atoms(atoms);
            }
        }
    }

    /// `not self`.
    pub fn negate(self) -> Expr<A> {
        Expr::Not(Box::new(self))
    }

    /// `self and other`.
    pub fn and(self, other: Expr<A>) -> Expr<A> {
        Expr::And(Box::new(self), Box::new(other))
    }

    /// `self or other`.
    pub fn or(self, other: Expr<A>) -> Expr<A> {
        Expr::Or(Box::new(self), Box::new(other))
    }

    /// Binding strength: higher binds tighter.
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            Expr::Not(..) => 3,
            Expr::Atom(..) => 4,
        }
    }
}

impl MarkerExpr {
    /// Parses and checks every marker name against `registry`; an unknown marker is reported
    /// at its column with a suggestion.
    pub fn parse_checked(text: &str, registry: &MarkerRegistry) -> Result<MarkerExpr, ExprError> {
        let expr = MarkerExpr::parse(text)?;
        match expr.validate(registry) {
            Ok(()) => Ok(expr),
            Err(unknown) => Err(parser::unknown_marker_error(text, unknown)),
        }
    }

    /// Checks that every marker is registered; the first unknown one (left to right) is the
    /// error.
    pub fn validate(&self, registry: &MarkerRegistry) -> Result<(), UnknownMarker> {
        match self.atoms().into_iter().find(|name| !registry.contains(name)) {
            Some(name) => Err(registry.unknown(name.as_str())),
            None => Ok(()),
        }
    }

    /// Whether a test carrying `markers` is selected.
    pub fn matches(&self, markers: &MarkerSet) -> bool {
        self.eval(|name| markers.contains(name))
    }

    /// Whether some set of markers satisfies the expression (used to tell which phases a
    /// filter can reach). Exact up to 16 distinct markers; beyond that it answers `true`,
    /// the safe side.
    pub fn is_satisfiable(&self) -> bool {
        let mut names = self.atoms();
        names.sort();
        names.dedup();
        if names.len() > 16 {
            return true;
        }
        (0u32..1 << names.len()).any(|bits| {
            self.eval(|name| names.iter().position(|n| *n == name).is_some_and(|i| bits & (1 << i) != 0))
        })
    }
}

impl KeywordExpr {
    /// Whether the full test name matches: each keyword is a case-insensitive substring test.
    /// Callers pass the name `-k` should see (the test's path, possibly prefixed by its
    /// binary id, as the CLI documents).
    pub fn matches(&self, test_name: &str) -> bool {
        let name = test_name.to_lowercase();
        self.eval(|keyword| keyword.occurs_in(&name))
    }
}

impl<A: fmt::Display> fmt::Display for Expr<A> {
    /// Prints the expression with only the parentheses it needs, such that parsing the
    /// output gives back the same tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Atom(atom) => write!(f, "{atom}"),
            Expr::Not(inner) => {
                f.write_str("not ")?;
                write_operand(f, inner, 3)
            }
            Expr::And(left, right) => write_binary(f, left, "and", right, 2),
            Expr::Or(left, right) => write_binary(f, left, "or", right, 1),
        }
    }
}

/// Left operand at the operator's own level (left-associative); the right one must bind
/// strictly tighter, or it is parenthesised.
fn write_binary<A: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    left: &Expr<A>,
    operator: &str,
    right: &Expr<A>,
    precedence: u8,
) -> fmt::Result {
    write_operand(f, left, precedence)?;
    write!(f, " {operator} ")?;
    write_operand(f, right, precedence + 1)
}

fn write_operand<A: fmt::Display>(f: &mut fmt::Formatter<'_>, operand: &Expr<A>, min: u8) -> fmt::Result {
    if operand.precedence() < min { write!(f, "({operand})") } else { write!(f, "{operand}") }
}

#[cfg(test)]
mod tests;
