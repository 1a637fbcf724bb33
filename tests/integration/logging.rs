//! Diagnostic logging: `-v` shows each DynamoDB and S3 call with its
//! latency, `RUST_LOG` chooses targets itself, and with `--output json` the
//! records are `log` events that follow the schema.

use crate::support::schema::{events, schema};
use crate::support::*;

/// Lines like "tflock: DynamoDB UpdateItem: 200 in 3.1 ms": (service,
/// operation, outcome, milliseconds).
fn calls(text: &str) -> Vec<(String, String, String, f64)> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("tflock: ")?;
            let (service, rest) = rest.split_once(' ')?;
            if service != "DynamoDB" && service != "S3" {
                return None;
            }
            let (operation, rest) = rest.split_once(": ")?;
            let (outcome, rest) = rest.rsplit_once(" in ")?;
            let ms = rest.split(" ms").next()?.parse().ok()?;
            Some((service.into(), operation.into(), outcome.into(), ms))
        })
        .collect()
}

#[test]
fn verbose_shows_every_dynamodb_and_s3_call_with_its_latency() {
    let f = Fixture::new();
    let dir = f.terraform_dir("app");

    let quiet = output(f.tflock_in(&dir).args(["run", "--", "true"]));
    assert_eq!(code(&quiet), 0, "{}", stderr(&quiet));
    assert!(calls(&stderr(&quiet)).is_empty(), "{}", stderr(&quiet));

    let out = output(f.tflock_in(&dir).args(["-v", "run", "--", "true"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let seen = calls(&stderr(&out));
    let has = |service: &str, operation: &str, outcome: &str| {
        seen.iter().any(|(s, o, out, ms)| {
            s == service && o == operation && out.starts_with(outcome) && *ms > 0.0
        })
    };
    // The lease (acquire, release), the history record; the state reads,
    // which find no state yet.
    assert!(has("DynamoDB", "UpdateItem", "200"), "{}", stderr(&out));
    assert!(has("S3", "GetObject", "404 (NoSuchKey"), "{}", stderr(&out));
    // The verbose detail lines are still there, and nothing of the SDK's own.
    assert!(stderr(&out).contains("acquired lock"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("aws_smithy_runtime"),
        "{}",
        stderr(&out)
    );

    // A call that fails says why, attempt by attempt.
    let mut unreachable = f.tflock("k");
    unreachable.env(
        "AWS_ENDPOINT_URL",
        format!("http://127.0.0.1:{}", moto::free_port()),
    );
    let out = output(unreachable.args(["-v", "run", "--", "true"]));
    assert_eq!(code(&out), 69, "{}", stderr(&out));
    let failed = calls(&stderr(&out));
    assert!(!failed.is_empty(), "{}", stderr(&out));
    assert!(
        failed
            .iter()
            .all(|(_, _, outcome, _)| outcome.starts_with("no response (")
                && outcome.contains("Connection refused")),
        "{failed:?}"
    );
    assert!(stderr(&out).contains(", attempt 2"), "{}", stderr(&out));
}

#[test]
fn json_output_keeps_log_records_as_schema_events() {
    let f = Fixture::new();
    let dir = f.terraform_dir("app");
    let out = output(
        f.tflock_in(&dir)
            .args(["--output", "json", "-v", "run", "--", "echo", "hello"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "hello\n");
    let evs = events(&out, &schema());
    let logs: Vec<_> = evs.iter().filter(|e| e["event"] == "log").collect();
    assert!(!logs.is_empty(), "{}", stderr(&out));
    for log in &logs {
        assert_eq!(log["target"], "tflock::aws", "{log}");
        assert!(log["fields"]["status"].is_u64(), "{log}");
        assert!(log["fields"]["latency_ms"].as_f64().unwrap() > 0.0, "{log}");
    }
    let operations: Vec<&str> = logs
        .iter()
        .map(|l| l["fields"]["operation"].as_str().unwrap())
        .collect();
    assert!(operations.contains(&"GetObject"), "{operations:?}");
    assert!(operations.contains(&"UpdateItem"), "{operations:?}");
    // tflock's own events are still there, among the records.
    assert!(evs.iter().any(|e| e["event"] == "acquired"));
    assert!(evs.iter().any(|e| e["event"] == "released"));
}

#[test]
fn rust_log_chooses_targets_and_a_bad_one_is_a_warning() {
    let f = Fixture::new();
    let out = output(
        f.tflock("k")
            .env("RUST_LOG", "aws_smithy_runtime=debug")
            .args(["run", "--", "true"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("tflock: debug aws_smithy_runtime"), "{text}");
    // Not asked for: tflock's own call records.
    assert!(calls(&text).is_empty(), "{text}");

    let out = output(
        f.tflock("k")
            .env("RUST_LOG", "tflock=loud")
            .args(["run", "--", "true"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("tflock: warning: ignoring RUST_LOG=\"tflock=loud\""),
        "{}",
        stderr(&out)
    );
}
