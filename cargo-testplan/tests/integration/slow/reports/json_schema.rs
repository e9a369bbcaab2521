//! A small JSON Schema validator: the subset docs/report-schema.json uses (`type`,
//! `properties`, `required`, `items`, `enum`, `const`, `minimum`, local `$ref`s). It is
//! strict: an object whose schema lists `properties` may hold no others, so a field added
//! to the report without documenting it fails the test.

use serde_json::Value;

/// Every violation of `schema` by `value`, as `path: problem` lines.
pub fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check(schema, schema, value, "$", &mut problems);
    problems
}

fn check(root: &Value, schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let name = target.strip_prefix("#/$defs/").unwrap_or_else(|| panic!("unsupported $ref {target}"));
        let def = root.pointer(&format!("/$defs/{name}")).unwrap_or_else(|| panic!("no $defs/{name}"));
        return check(root, def, value, path, problems);
    }
    if let Some(expected) = schema.get("const")
        && value != expected
    {
        problems.push(format!("{path}: {value} is not {expected}"));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        problems.push(format!("{path}: {value} is not one of {options:?}"));
    }
    if let Some(kind) = schema.get("type").and_then(Value::as_str)
        && !has_type(value, kind)
    {
        return problems.push(format!("{path}: expected {kind}, found {value}"));
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), value.as_f64())
        && n < min
    {
        problems.push(format!("{path}: {n} is below {min}"));
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check(root, items, item, &format!("{path}[{i}]"), problems);
        }
    }
    if let Some(object) = value.as_object() {
        check_object(root, schema, object, path, problems);
    }
}

fn check_object(
    root: &Value,
    schema: &Value,
    object: &serde_json::Map<String, Value>,
    path: &str,
    problems: &mut Vec<String>,
) {
    let required = schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
    for key in required.iter().filter_map(Value::as_str) {
        if !object.contains_key(key) {
            problems.push(format!("{path}: missing required `{key}`"));
        }
    }
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (key, item) in object {
        match properties.get(key) {
            Some(property) => check(root, property, item, &format!("{path}.{key}"), problems),
            None => problems.push(format!("{path}: `{key}` is not in the documented schema")),
        }
    }
}

fn has_type(value: &Value, kind: &str) -> bool {
    match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "null" => value.is_null(),
        other => panic!("unsupported type {other}"),
    }
}

/// docs/report-schema.json.
pub fn report_schema() -> Value {
    let path = crate::support::fixture::repo_root().join("docs/report-schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn validator_catches_what_the_schema_forbids() {
    let schema = report_schema();
    let bad = serde_json::json!({
        "format_version": 2,
        "tool_version": "0.1.0",
        "command_line": ["cargo"],
        "started_at_unix": 1.0,
        "duration_secs": 1.0,
        "jobs": 2,
        "counts": {"total": 1, "passed": 1, "failed": 0, "crashed": 0, "timed_out": 0, "skipped": 0, "not_run": 0},
        "tests": [{"binary_id": "a", "package": "a", "kind": "lib", "name": "t", "status": "exploded",
                   "duration_secs": 0.1, "attempts": 1, "surprise": true}],
    });
    assert_eq!(
        validate(&schema, &bad),
        [
            "$.format_version: 2 is not 1",
            "$.tests[0].status: \"exploded\" is not one of [String(\"passed\"), String(\"failed\"), \
             String(\"crashed\"), String(\"timed-out\"), String(\"memory-exceeded\"), String(\"skipped\"), \
             String(\"not-run\"), String(\"interrupted\")]",
            "$.tests[0]: `surprise` is not in the documented schema",
        ]
    );
}
