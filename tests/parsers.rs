//! Property tests for the parsers of untrusted input (issue #7): durations,
//! terraform's backend file, lease items written by anyone, command lines to
//! redact, terraform command lines. None may panic; each keeps its promise.

use std::collections::HashMap;
use std::ffi::OsString;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use proptest::prelude::*;

use tflock::lock::LeaseRecord;
use tflock::{backend, duration, redact, terraform};

fn attribute() -> impl Strategy<Value = AttributeValue> {
    let leaf = prop_oneof![
        ".{0,40}".prop_map(AttributeValue::S),
        "-?[0-9]{0,25}(\\.[0-9]{0,5})?(e[0-9]{1,4})?".prop_map(AttributeValue::N),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null(true)),
    ];
    leaf.prop_recursive(2, 16, 6, |inner| {
        prop_oneof![
            prop::collection::hash_map("[a-z_]{1,12}", inner.clone(), 0..6)
                .prop_map(AttributeValue::M),
            prop::collection::vec(inner, 0..4).prop_map(AttributeValue::L),
        ]
    })
}

/// Attributes at the top of a lease item.
const NAMES: &[&str] = &[
    "LockID",
    "tflock",
    "fence",
    "next_ticket",
    "serving",
    "wait_0",
    "wait_1",
    "wait_x",
    "gc_at",
    "runs",
    "run_1",
    "state_seen",
];

/// Fields of its `lease` map.
const LEASE_NAMES: &[&str] = &[
    "format",
    "state",
    "owner_token",
    "rvn",
    "holder",
    "expires_at",
    "released",
    "ticket",
    "terraform_lock_id",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn durations_never_panic(s in "\\PC{0,30}") {
        let _ = duration::parse(&s);
    }

    #[test]
    fn well_formed_durations_parse_exactly(h in 0u64..1000, m in 0u64..60, sec in 0u64..60, ms in 0u64..1000) {
        let text = format!("{h}h{m}m{sec}s{ms}ms");
        let expected = Duration::from_millis(((h * 60 + m) * 60 + sec) * 1000 + ms);
        prop_assert_eq!(duration::parse(&text), Ok(expected));
        // And what format prints parses back to within its rounding.
        let shown = duration::format(expected);
        prop_assert!(duration::parse(&shown).is_ok(), "{}", shown);
    }

    #[test]
    fn backend_files_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), ws in proptest::option::of("[a-z]{0,8}")) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("terraform.tfstate"), &bytes).unwrap();
        let _ = backend::read(dir.path(), ws.as_deref());
    }

    #[test]
    fn backend_json_shapes_never_panic(value in attribute()) {
        // Any JSON-ish shape where the config is expected.
        let json = format!(r#"{{"backend":{{"type":"s3","config":{}}}}}"#, to_json(&value));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("terraform.tfstate"), json).unwrap();
        let _ = backend::read(dir.path(), None);
    }

    #[test]
    fn lease_items_never_panic(
        mut item in prop::collection::hash_map(prop::sample::select(NAMES).prop_map(str::to_string), attribute(), 0..8),
        lease in prop::option::of(prop::collection::hash_map(prop::sample::select(LEASE_NAMES).prop_map(str::to_string), attribute(), 0..10)),
    ) {
        if let Some(lease) = lease {
            item.insert("lease".to_string(), AttributeValue::M(lease));
        }
        let _ = LeaseRecord::from_item(&item);
    }

    #[test]
    fn redaction_never_leaks_a_variable_value(name in "[a-z_]{1,10}", value in "[A-Za-z0-9]{8,20}", pre in prop::collection::vec(".{0,20}", 0..4)) {
        let mut args: Vec<OsString> = pre.iter().map(OsString::from).collect();
        args.push("-var".into());
        args.push(format!("{name}={value}").into());
        args.push(format!("-var={name}={value}").into());
        let line = redact::command_line("terraform", &args);
        prop_assert!(!line.contains(&value), "{}", line);
        prop_assert!(line.len() <= 2100);
    }

    #[test]
    fn terraform_command_lines_never_panic(words in prop::collection::vec("-?[a-z=\\-]{0,12}", 0..8)) {
        let args: Vec<OsString> = words.iter().map(OsString::from).collect();
        let _ = terraform::classify(&args);
    }
}

fn to_json(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => serde_json::to_string(s).unwrap(),
        AttributeValue::N(n) => {
            if n.parse::<f64>().is_ok() {
                n.clone()
            } else {
                "0".into()
            }
        }
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::M(m) => {
            let fields: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), to_json(v)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        AttributeValue::L(l) => {
            format!("[{}]", l.iter().map(to_json).collect::<Vec<_>>().join(","))
        }
        _ => "null".into(),
    }
}

#[test]
fn a_lease_item_from_a_real_acquire_shape_parses() {
    // Guard against the properties passing only because nothing ever parses.
    let s = |v: &str| AttributeValue::S(v.to_string());
    let n = |v: &str| AttributeValue::N(v.to_string());
    let holder = HashMap::from([
        ("who".to_string(), s("a@h")),
        ("host".to_string(), s("h")),
        ("pid".to_string(), n("1")),
        ("operation".to_string(), s("apply")),
        ("acquired_at".to_string(), s("2026-01-01T00:00:00Z")),
        ("lease_ms".to_string(), n("30000")),
    ]);
    let lease = HashMap::from([
        ("format".to_string(), s("lease-v2")),
        ("state".to_string(), s("held")),
        ("owner_token".to_string(), s("t")),
        ("rvn".to_string(), s("r")),
        ("holder".to_string(), AttributeValue::M(holder)),
    ]);
    let item = HashMap::from([
        ("fence".to_string(), n("3")),
        ("lease".to_string(), AttributeValue::M(lease)),
    ]);
    assert!(LeaseRecord::from_item(&item).is_ok());
}
