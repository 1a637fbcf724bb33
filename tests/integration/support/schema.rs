//! A JSON Schema validator for the subset docs/events.schema.json uses
//! (`$ref` into `$defs`, `oneOf`, `type`, `const`, `enum`, `required`,
//! `properties`, `additionalProperties: false`, `items`, `minItems`,
//! `minimum`, `maximum`, `format: date-time`). A keyword outside the subset
//! fails the validation, so the schema cannot grow past what is checked.

use serde_json::Value;

use super::stderr;

const KNOWN: &[&str] = &[
    "$schema",
    "$defs",
    "$ref",
    "title",
    "description",
    "oneOf",
    "type",
    "const",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minItems",
    "minimum",
    "maximum",
    "format",
];

/// docs/events.schema.json, parsed.
pub fn schema() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/events.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every stderr line, parsed and checked against the schema; the events.
pub fn events(out: &std::process::Output, schema: &Value) -> Vec<Value> {
    stderr(out)
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
            let errors = validate(schema, &v);
            assert!(errors.is_empty(), "{line}\n{errors:#?}");
            v
        })
        .collect()
}

/// Errors of `value` against `schema` (whose root holds the `$defs`).
pub fn validate(root: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(root, root, value, "$", &mut errors);
    errors
}

fn check(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        errors.push(format!("{at}: schema is not an object"));
        return;
    };
    for key in schema.keys() {
        if !KNOWN.contains(&key.as_str()) {
            errors.push(format!(
                "{at}: schema keyword {key} is not checked by this validator"
            ));
        }
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/$defs/")
            .expect("only #/$defs/ references");
        check(root, &root["$defs"][name], value, at, errors);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|o| {
                let mut e = Vec::new();
                check(root, o, value, at, &mut e);
                e.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!(
                "{at}: matches {matching} of oneOf, not exactly one: {value}"
            ));
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.iter().any(|t| is_type(value, t)) {
            errors.push(format!("{at}: {value} is not of type {t}"));
        }
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        errors.push(format!("{at}: {value} is not {c}"));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Some(obj) = value.as_object() {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or_default();
            if !obj.contains_key(name) {
                errors.push(format!("{at}: missing {name}"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, v) in obj {
            match properties.and_then(|p| p.get(name)) {
                Some(s) => check(root, s, v, &format!("{at}.{name}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{at}: unexpected property {name}"))
                }
                None => {}
            }
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(s) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(root, s, item, &format!("{at}[{i}]"), errors);
            }
        }
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            errors.push(format!("{at}: fewer than {min} items"));
        }
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            errors.push(format!("{at}: {n} < {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            errors.push(format!("{at}: {n} > {max}"));
        }
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time")
        && let Some(s) = value.as_str()
        && chrono::DateTime::parse_from_rfc3339(s).is_err()
    {
        errors.push(format!("{at}: {s} is not an RFC 3339 date-time"));
    }
}

fn is_type(value: &Value, t: &str) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    }
}

#[test]
fn the_validator_rejects_what_it_should() {
    let root: Value = serde_json::json!({
        "oneOf": [{"$ref": "#/$defs/a"}],
        "$defs": {"a": {"type": "object", "required": ["event", "n"], "additionalProperties": false,
            "properties": {"event": {"const": "a"}, "n": {"type": "integer", "minimum": 1},
                           "t": {"type": "string", "format": "date-time"},
                           "l": {"enum": ["x", "y"]}}}}
    });
    assert!(validate(&root, &serde_json::json!({"event": "a", "n": 2})).is_empty());
    assert!(validate(&root, &serde_json::json!({"event": "a", "n": 2, "l": "y"})).is_empty());
    for bad in [
        serde_json::json!({"event": "b", "n": 2}),
        serde_json::json!({"event": "a"}),
        serde_json::json!({"event": "a", "n": 0}),
        serde_json::json!({"event": "a", "n": 1.5}),
        serde_json::json!({"event": "a", "n": 1, "x": 1}),
        serde_json::json!({"event": "a", "n": 1, "t": "yesterday"}),
        serde_json::json!({"event": "a", "n": 1, "l": "z"}),
    ] {
        assert!(!validate(&root, &bad).is_empty(), "{bad} passed");
    }
    let unknown = serde_json::json!({"pattern": "x"});
    assert!(!validate(&unknown, &serde_json::json!("x")).is_empty());
}
