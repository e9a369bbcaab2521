//! Table-driven tests of the expression parser and property tests of its algebra.

use proptest::prelude::*;

use super::*;

/// Fully parenthesised prefix form, to make the parsed tree visible.
fn tree<A: fmt::Display>(expr: &Expr<A>) -> String {
    match expr {
        Expr::Atom(atom) => atom.to_string(),
        Expr::Not(inner) => format!("(not {})", tree(inner)),
        Expr::And(left, right) => format!("(and {} {})", tree(left), tree(right)),
        Expr::Or(left, right) => format!("(or {} {})", tree(left), tree(right)),
    }
}

fn parse_markers(text: &str) -> Result<MarkerExpr, ExprError> {
    MarkerExpr::parse(text)
}

#[test]
fn precedence_and_parentheses() {
    let cases = [
        ("slow", "slow"),
        ("requires_gpu", "requires-gpu"),
        ("  ( ( slow ) )  ", "slow"),
        ("a or b and c", "(or a (and b c))"),
        ("a and b or c", "(or (and a b) c)"),
        ("not a and b", "(and (not a) b)"),
        ("not a or b", "(or (not a) b)"),
        ("a and b or c and d", "(or (and a b) (and c d))"),
        ("a or b or c", "(or (or a b) c)"),
        ("a and b and c", "(and (and a b) c)"),
        ("a and (b and c)", "(and a (and b c))"),
        ("not not a", "(not (not a))"),
        ("not (a or b)", "(not (or a b))"),
        ("(a or b) and c", "(and (or a b) c)"),
        ("a and not b or c", "(or (and a (not b)) c)"),
        ("integration and not (slow or requires-gpu)", "(and integration (not (or slow requires-gpu)))"),
        ("notslow and android", "(and notslow android)"),
        ("slow\tand\nunit", "(and slow unit)"),
    ];
    for (text, expected) in cases {
        let parsed = parse_markers(text).map(|expr| tree(&expr)).map_err(|e| e.to_string());
        assert_eq!(parsed, Ok(expected.to_owned()), "{text:?}");
    }
}

#[test]
fn display_minimal_parentheses() {
    let cases = [
        ("(a and b) and c", "a and b and c"),
        ("a and (b and c)", "a and (b and c)"),
        ("not (a)", "not a"),
        ("((a or b)) and not (c or d)", "(a or b) and not (c or d)"),
        ("a or (b and c)", "a or b and c"),
        ("not not requires_gpu", "not not requires-gpu"),
        ("(a or b) or (c or d)", "a or b or (c or d)"),
    ];
    for (text, expected) in cases {
        let parsed = parse_markers(text).map(|expr| expr.to_string()).map_err(|e| e.to_string());
        assert_eq!(parsed, Ok(expected.to_owned()), "{text:?}");
    }
}

#[test]
fn error_rendering() {
    let error = parse_markers("integration and").map(|_| ()).map_err(|e| e.to_string());
    let expected = "invalid marker expression: expected a marker name or '(' after 'and'\n  \
                    integration and\n                 ^ column 16";
    assert_eq!(error, Err(expected.to_owned()));
}

#[test]
fn syntax_errors_with_columns() {
    let deep = format!("{}a{}", "(".repeat(65), ")".repeat(65));
    let long = "a or ".repeat(600) + "a";
    let cases: Vec<(&str, usize, &str)> = vec![
        ("", 1, "empty expression"),
        ("   ", 1, "empty expression"),
        ("integration and", 16, "expected a marker name or '(' after 'and'"),
        ("not", 4, "expected a marker name or '(' after 'not'"),
        ("slow or", 8, "expected a marker name or '(' after 'or'"),
        ("(", 2, "expected a marker name or '(' after '('"),
        ("slow or and unit", 9, "expected a marker name or '(' after 'or', found 'and'"),
        ("or slow", 1, "expected a marker name or '(', found 'or'"),
        (")", 1, "expected a marker name or '(', found ')'"),
        ("()", 2, "expected a marker name or '(' after '(', found ')'"),
        ("(slow or unit", 1, "unbalanced parenthesis: this '(' is never closed"),
        ("unit and (slow or (e2e)", 10, "unbalanced parenthesis: this '(' is never closed"),
        ("slow)", 5, "unexpected ')' without a matching '('"),
        ("(slow))", 7, "unexpected ')' without a matching '('"),
        ("slow unit", 6, "expected 'and' or 'or' before 'unit'"),
        ("slow not unit", 6, "expected 'and' or 'or' before 'not'"),
        ("slow (unit)", 6, "expected 'and' or 'or' before '('"),
        ("(slow unit)", 7, "expected 'and', 'or' or ')' before 'unit'"),
        ("slow && unit", 6, "unexpected character '&' (use 'and')"),
        ("slow || unit", 6, "unexpected character '|' (use 'or')"),
        ("!slow", 1, "unexpected character '!' (use 'not')"),
        ("slow $", 6, "unexpected character '$'"),
        ("é", 1, "unexpected character 'é'"),
        (
            "Slow",
            1,
            "invalid marker name 'Slow': use lowercase letters, digits and '-', starting with a letter",
        ),
        (
            "slow and 2fast",
            10,
            "invalid marker name '2fast': use lowercase letters, digits and '-', starting with a letter",
        ),
        (
            "AND",
            1,
            "invalid marker name 'AND': use lowercase letters, digits and '-', starting with a letter",
        ),
        (&deep, 65, "expression nests too deeply (more than 64 levels)"),
        (&long, 2501, "expression is too long (more than 1000 words and symbols)"),
    ];
    for (text, column, message) in cases {
        let error = parse_markers(text).map(|_| ()).map_err(|e| (e.column(), e.kind().to_string()));
        assert_eq!(error, Err((column, message.to_owned())), "{text:?}");
    }
}

#[test]
fn unknown_markers_point_at_their_column() {
    let registry = MarkerRegistry::builtin();
    let cases = [
        ("unit and slwo", 10, "unknown marker 'slwo' (did you mean 'slow'?)"),
        ("not requires_gpus", 5, "unknown marker 'requires_gpus' (did you mean 'requires-gpu'?)"),
        ("(slow or network) and gpu", 10, "unknown marker 'network'"),
        ("slow and gpu or network", 10, "unknown marker 'gpu' (did you mean 'requires-gpu'?)"),
    ];
    for (text, column, message) in cases {
        let error = MarkerExpr::parse_checked(text, &registry)
            .map(|_| ())
            .map_err(|e| (e.column(), e.kind().to_string()));
        assert_eq!(error, Err((column, message.to_owned())), "{text:?}");
    }
    let ok =
        MarkerExpr::parse_checked("unit and not (slow or requires_gpu)", &registry).map(|e| e.to_string());
    assert_eq!(ok.map_err(|e| e.to_string()), Ok("unit and not (slow or requires-gpu)".to_owned()));
}

#[test]
fn unknown_marker_rendering() {
    let error = MarkerExpr::parse_checked("unit and slwo", &MarkerRegistry::builtin()).map(|_| ());
    let expected = "invalid marker expression: unknown marker 'slwo' (did you mean 'slow'?)\n  \
                    unit and slwo\n           ^ column 10";
    assert_eq!(error.map_err(|e| e.to_string()), Err(expected.to_owned()));
}

#[test]
fn validate_reports_first_unknown() {
    let expr = parse_markers("slwo or gpu").map_err(|e| e.to_string());
    let validated = expr.map(|expr| expr.validate(&MarkerRegistry::builtin()).map_err(|e| e.to_string()));
    assert_eq!(validated, Ok(Err("unknown marker 'slwo' (did you mean 'slow'?)".to_owned())));
}

#[test]
fn marker_matching() {
    let name = |text: &str| MarkerName::new(text).unwrap_or_else(|e| panic!("{e}"));
    let expr = parse_markers("unit and not (slow or requires-gpu)").unwrap_or_else(|e| panic!("{e}"));
    let set = |names: &[&str]| names.iter().map(|n| name(n)).collect::<MarkerSet>();
    assert!(expr.matches(&set(&["unit"])));
    assert!(expr.matches(&set(&["unit", "serial"])));
    assert!(!expr.matches(&set(&["unit", "slow"])));
    assert!(!expr.matches(&set(&["integration"])));
}

#[test]
fn satisfiability() {
    let expr = |text: &str| parse_markers(text).unwrap_or_else(|e| panic!("{e}"));
    let fast = "not (slow or requires-gpu or requires-models)";
    assert!(expr(&format!("unit and not slow and {fast}")).is_satisfiable());
    assert!(!expr(&format!("(slow and not requires-gpu) and {fast}")).is_satisfiable());
    assert!(!expr(&format!("requires-gpu and {fast}")).is_satisfiable());
    assert!(!expr("b and a and not a").is_satisfiable());
    assert!(expr("b or a and not a").is_satisfiable());
}

#[test]
fn keywords() {
    let expr = |text: &str| KeywordExpr::parse(text).unwrap_or_else(|e| panic!("{e}"));
    let k = expr("Parser and not (slow or ::e2e::)");
    assert!(k.matches("expr::parser::tests::precedence"));
    assert!(k.matches("PARSER_works"));
    assert!(!k.matches("expr::parser::slow_case"));
    assert!(!k.matches("app::e2e::parser"));
    assert!(!k.matches("lexer"));
    assert!(expr("a&b").matches("x::a&b"));
    assert_eq!(expr("Foo or not Bar").to_string(), "Foo or not Bar");
}

#[test]
fn keyword_errors() {
    let cases = [
        (
            "foo and",
            "invalid keyword expression: expected a keyword or '(' after 'and'\n  foo and\n         ^ column 8",
        ),
        (
            "foo bar",
            "invalid keyword expression: expected 'and' or 'or' before 'bar'\n  foo bar\n      ^ column 5",
        ),
        ("", "invalid keyword expression: empty expression\n  \n  ^ column 1"),
    ];
    for (text, message) in cases {
        let error = KeywordExpr::parse(text).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(error, Err(message.to_owned()), "{text:?}");
    }
}

const NAMES: [&str; 5] = ["a", "b", "slow", "requires-gpu", "e2e"];

fn marker_expr() -> impl Strategy<Value = MarkerExpr> {
    let leaf = prop::sample::select(&NAMES[..]).prop_map(|name| Expr::Atom(MarkerName::from_static(name)));
    leaf.prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(Expr::negate),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| l.and(r)),
            (inner.clone(), inner).prop_map(|(l, r)| l.or(r)),
        ]
    })
}

/// A marker set drawn from [`NAMES`] by bit mask.
fn markers(bits: u8) -> MarkerSet {
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| MarkerName::from_static(n))
        .collect()
}

fn eval_text(text: &str, set: &MarkerSet) -> bool {
    MarkerExpr::parse(text).unwrap_or_else(|e| panic!("{e}")).matches(set)
}

proptest! {
    #[test]
    fn display_round_trips(expr in marker_expr()) {
        let text = expr.to_string();
        prop_assert_eq!(MarkerExpr::parse(&text), Ok(expr));
    }

    #[test]
    fn double_negation(expr in marker_expr(), bits in 0u8..32) {
        let set = markers(bits);
        prop_assert_eq!(eval_text(&format!("not not ({expr})"), &set), expr.matches(&set));
    }

    #[test]
    fn de_morgan(a in marker_expr(), b in marker_expr(), bits in 0u8..32) {
        let set = markers(bits);
        let and = eval_text(&format!("not (({a}) and ({b}))"), &set);
        prop_assert_eq!(and, eval_text(&format!("not ({a}) or not ({b})"), &set));
        let or = eval_text(&format!("not (({a}) or ({b}))"), &set);
        prop_assert_eq!(or, eval_text(&format!("not ({a}) and not ({b})"), &set));
    }

    #[test]
    fn commutativity(a in marker_expr(), b in marker_expr(), bits in 0u8..32) {
        let set = markers(bits);
        prop_assert_eq!(eval_text(&format!("({a}) and ({b})"), &set), eval_text(&format!("({b}) and ({a})"), &set));
        prop_assert_eq!(eval_text(&format!("({a}) or ({b})"), &set), eval_text(&format!("({b}) or ({a})"), &set));
    }

    #[test]
    fn and_binds_tighter_than_or(a in marker_expr(), b in marker_expr(), c in marker_expr(), bits in 0u8..32) {
        let set = markers(bits);
        let flat = eval_text(&format!("({a}) or ({b}) and ({c})"), &set);
        prop_assert_eq!(flat, eval_text(&format!("({a}) or (({b}) and ({c}))"), &set));
        prop_assert_eq!(flat, a.matches(&set) || (b.matches(&set) && c.matches(&set)));
    }

    #[test]
    fn keyword_round_trip(words in prop::collection::vec("[a-zA-Z0-9_:]{1,6}", 1..5), ops in prop::collection::vec(0u8..3, 4)) {
        let words: Vec<String> = words.into_iter().filter(|w| !matches!(w.as_str(), "and" | "or" | "not")).collect();
        prop_assume!(!words.is_empty());
        let mut text = words[0].clone();
        for (word, op) in words[1..].iter().zip(&ops) {
            text += [" and ", " or not ", " or "][usize::from(*op)];
            text += word;
        }
        let expr = KeywordExpr::parse(&text);
        prop_assert!(expr.is_ok(), "{text}");
        if let Ok(expr) = expr {
            prop_assert_eq!(KeywordExpr::parse(&expr.to_string()), Ok(expr));
        }
    }

    #[test]
    fn parser_never_panics(text in "[a-z() !&]{0,40}") {
        let _ = MarkerExpr::parse(&text);
        let _ = KeywordExpr::parse(&text);
    }
}
