//! `tflock setup` and `tflock doctor`, against moto and real terraform.

use std::path::PathBuf;
use std::process::{Command, Output};

use aws_sdk_dynamodb::types::{
    ScalarAttributeType, TableDescription, TimeToLiveSpecification, TimeToLiveStatus,
};
use serde_json::Value;

use crate::support::*;

/// A DynamoDB client on the fixture's moto, for what the harness's own
/// helper does not offer (describing tables and their TTL).
fn client(f: &Fixture) -> aws_sdk_dynamodb::Client {
    let creds = aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests");
    let conf = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(f.moto.endpoint())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

fn describe(f: &Fixture, table: &str) -> TableDescription {
    dynamo::block_on(async {
        client(f)
            .describe_table()
            .table_name(table)
            .send()
            .await
            .expect("describe table")
            .table
            .expect("table description")
    })
}

/// The TTL's (status, attribute).
fn ttl(f: &Fixture, table: &str) -> (Option<TimeToLiveStatus>, Option<String>) {
    dynamo::block_on(async {
        let out = client(f)
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .expect("describe TTL");
        let d = out.time_to_live_description();
        (
            d.and_then(|d| d.time_to_live_status().cloned()),
            d.and_then(|d| d.attribute_name().map(str::to_string)),
        )
    })
}

fn enable_ttl(f: &Fixture, table: &str, attribute: &str) {
    dynamo::block_on(async {
        client(f)
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(attribute)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("update TTL")
    });
}

/// tflock with no backend, reaching moto through AWS_ENDPOINT_URL.
fn tflock(f: &Fixture) -> Command {
    let mut cmd = f.tflock_in(f.dir.path());
    cmd.env("AWS_ENDPOINT_URL", &f.endpoint);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.env("RUST_BACKTRACE", "1");
    let out = output(cmd);
    let err = stderr(&out);
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    out
}

/// Runs a command expected to fail with `expected` and one error line
/// containing `needle`.
fn fails(cmd: &mut Command, expected: i32, needle: &str) -> Output {
    let out = run(cmd);
    let err = stderr(&out);
    assert_eq!(
        code(&out),
        expected,
        "stdout: {}\nstderr: {err}",
        stdout(&out)
    );
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("tflock: error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {err}");
    assert!(errors[0].contains(needle), "expected {needle:?} in: {err}");
    out
}

#[test]
fn setup_creates_a_missing_table_and_a_second_run_changes_nothing() {
    let f = Fixture::new();
    let table = unique("setup");
    let out = run(tflock(&f).args(["setup", "--table", &table, "--bucket", &f.bucket]));
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}{}", stderr(&out));
    assert!(
        text.contains(&format!(
            "created table {table} (LockID: String, on demand)"
        )),
        "{text}"
    );
    assert!(text.contains("enabled TTL on gc_at"), "{text}");
    assert!(
        text.contains(&format!("bucket {} exists (versioning: ", f.bucket)),
        "{text}"
    );

    // The table is what a lock table must be.
    let d = describe(&f, &table);
    let keys: Vec<_> = d
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_string(),
                k.key_type().as_str().to_string(),
            )
        })
        .collect();
    assert_eq!(keys, [("LockID".to_string(), "HASH".to_string())]);
    assert_eq!(
        d.attribute_definitions()[0].attribute_type(),
        &ScalarAttributeType::S
    );
    assert_eq!(
        d.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
    );
    assert_eq!(
        ttl(&f, &table),
        (Some(TimeToLiveStatus::Enabled), Some("gc_at".to_string()))
    );

    // Again: nothing to do, and it says so.
    let out = run(tflock(&f).args(["setup", "--table", &table, "--bucket", &f.bucket]));
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}{}", stderr(&out));
    assert!(
        text.contains(&format!("table {table} exists (LockID: String)")),
        "{text}"
    );
    assert!(text.contains("TTL already enabled on gc_at"), "{text}");
    assert!(text.contains("nothing changed"), "{text}");
    assert!(!text.contains("created"), "{text}");

    // JSON: one object.
    let out = run(tflock(&f).args([
        "--output", "json", "setup", "--table", &table, "--bucket", &f.bucket,
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(v["table"], table.as_str());
    assert_eq!(v["created"], false);
    assert_eq!(v["ttl"], "already");
    assert_eq!(v["bucket"], f.bucket.as_str());
    assert!(v["bucket_versioning"].is_string(), "{v}");
}

#[test]
fn setup_json_reports_a_creation() {
    let f = Fixture::new();
    let table = unique("setupjson");
    let out = run(tflock(&f).args(["--output", "json", "setup", "--table", &table]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(v["table"], table.as_str());
    assert_eq!(v["created"], true);
    assert_eq!(v["ttl"], "enabled");
    assert_eq!(
        v["bucket"],
        Value::Null,
        "no bucket without a backend or --bucket"
    );
}

#[test]
fn setup_refuses_a_table_with_another_key_schema() {
    let f = Fixture::new();
    let table = unique("wrongkey");
    f.dynamo.create_table(&table, "id", ScalarAttributeType::S);
    fails(
        tflock(&f).args(["setup", "--table", &table]),
        78,
        "key schema id (S)",
    );
    // Left as it was: no TTL turned on.
    assert_ne!(ttl(&f, &table).0, Some(TimeToLiveStatus::Enabled));
    let numeric = unique("numkey");
    f.dynamo
        .create_table(&numeric, "LockID", ScalarAttributeType::N);
    fails(
        tflock(&f).args(["setup", "--table", &numeric]),
        78,
        "LockID (N)",
    );
}

#[test]
fn setup_reports_a_missing_bucket() {
    let f = Fixture::new();
    let missing = unique("nobucket");
    fails(
        tflock(&f).args(["setup", "--table", &f.table, "--bucket", &missing]),
        78,
        &format!("bucket {missing} does not exist"),
    );
}

#[test]
fn setup_needs_a_table() {
    let f = Fixture::new();
    fails(tflock(&f).arg("setup"), 78, "--table");
}

#[test]
fn setup_leaves_another_ttl_alone_and_warns() {
    let f = Fixture::new();
    enable_ttl(&f, &f.table, "expires");
    let out = run(tflock(&f).args(["setup", "--table", &f.table]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("TTL is enabled on expires"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("warning:") && stderr(&out).contains("garbage collection"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        ttl(&f, &f.table),
        (Some(TimeToLiveStatus::Enabled), Some("expires".to_string()))
    );
    let out = run(tflock(&f).args(["--output", "json", "setup", "--table", &f.table]));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(v["ttl"], "other:expires");
}

#[test]
fn a_run_works_on_a_table_created_by_setup() {
    let f = Fixture::new();
    let table = unique("fresh");
    let out = run(tflock(&f).args(["setup", "--table", &table]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = run(f.tflock("admin/app").env("TFLOCK_TABLE", &table).args([
        "run",
        "--",
        "sh",
        "-c",
        "echo fence=$TFLOCK_FENCE",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("fence=1"), "{}", stdout(&out));
    let item = f
        .dynamo
        .get(&table, "tflock:admin/app")
        .expect("the lease item is in the new table");
    assert_eq!(dynamo::s(&item, "state"), "released");
}

/// Every check line of a text report: (status, rest of the line).
fn check_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let (status, rest) = l.split_once("  ")?;
            ["pass", "warn", "fail", "skip"]
                .contains(&status)
                .then(|| (status.to_string(), rest.trim_start().to_string()))
        })
        .collect()
}

const CHECKS: &[&str] = &[
    "backend",
    "table",
    "ttl",
    "credentials",
    "lock write",
    "bucket",
    "versioning",
    "encryption",
    "clock",
    "terraform",
];

fn assert_every_check_listed(lines: &[(String, String)], text: &str) {
    assert_eq!(lines.len(), CHECKS.len(), "{text}");
    for (name, (_, rest)) in CHECKS.iter().zip(lines) {
        assert!(rest.starts_with(name), "check {name} in order: {text}");
    }
}

#[test]
fn doctor_passes_on_a_healthy_backend() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let out = run(f.tflock_in(&dir).arg("setup"));
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}{}", stderr(&out));
    assert!(
        text.contains(&format!("table {} exists", f.table)),
        "setup uses the backend's table: {text}"
    );
    assert!(
        text.contains(&format!("bucket {} exists", f.bucket)),
        "and its bucket: {text}"
    );

    let out = run(f.tflock_in(&dir).arg("doctor"));
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}{}", stderr(&out));
    let lines = check_lines(&text);
    assert_every_check_listed(&lines, &text);
    for (status, rest) in &lines {
        assert!(
            status == "pass" || status == "warn",
            "{status} {rest}\n{text}"
        );
    }
    let detail = |name: &str| {
        lines
            .iter()
            .find(|(_, r)| r.starts_with(name))
            .map(|(s, r)| (s.clone(), r.clone()))
            .unwrap()
    };
    for name in [
        "backend",
        "table",
        "ttl",
        "credentials",
        "lock write",
        "bucket",
    ] {
        assert_eq!(detail(name).0, "pass", "{name}: {text}");
    }
    assert!(
        detail("backend").1.contains(&f.bucket) && detail("backend").1.contains(&f.table),
        "{text}"
    );
    assert!(detail("clock").1.contains("±1s"), "{text}");
    assert_eq!(
        detail("clock").0,
        "pass",
        "moto runs on this machine's clock: {text}"
    );
    assert!(detail("terraform").1.contains("terraform 1."), "{text}");
    assert!(text.contains("0 fail"), "summary: {text}");
    assert!(
        f.dynamo
            .scan(&f.table)
            .iter()
            .all(|i| !dynamo::s(i, "LockID").starts_with("tflock-doctor:")),
        "the scratch item is removed"
    );
    assert!(
        f.dynamo.scan(&f.table).is_empty(),
        "nothing else was written: the real lock untouched"
    );

    // JSON: an array of {check, status, detail}.
    let out = run(f.tflock_in(&dir).args(["--output", "json", "doctor"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("a JSON array");
    let checks = v.as_array().expect("array");
    assert_eq!(
        checks
            .iter()
            .map(|c| c["check"].as_str().unwrap())
            .collect::<Vec<_>>(),
        CHECKS
    );
    for c in checks {
        assert!(c["status"] == "pass" || c["status"] == "warn", "{c}");
        assert!(c["detail"].is_string(), "{c}");
    }

    // A lease table other than the backend's: leases in two tables do not
    // exclude each other, so the backend check warns and says who chose it.
    let out = run(f
        .tflock_in(&dir)
        .env("TFLOCK_TABLE", "elsewhere")
        .arg("doctor"));
    let text = stdout(&out);
    let (status, rest) = check_lines(&text).into_iter().next().unwrap();
    assert_eq!(status, "warn", "{text}");
    assert!(
        rest.contains("table elsewhere (set by environment (TFLOCK_TABLE))")
            && rest.contains("does not wait for this one"),
        "{text}"
    );
}

#[test]
fn doctor_warns_about_a_table_without_ttl() {
    let f = Fixture::new();
    let out = run(tflock(&f).args(["--table", &f.table, "--lock-key", "k", "doctor"]));
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}{}", stderr(&out));
    let lines = check_lines(&text);
    assert_every_check_listed(&lines, &text);
    let (status, rest) = &lines[2];
    assert_eq!(status, "warn", "{text}");
    assert!(rest.contains("tflock setup"), "suggests setup: {text}");
    // No backend: no bucket to check.
    assert_eq!(lines[5].0, "skip", "{text}");
}

#[test]
fn doctor_fails_on_a_missing_table_and_still_lists_every_check() {
    let f = Fixture::new();
    let out = fails(
        tflock(&f).args(["--table", "no-such-table", "--lock-key", "k", "doctor"]),
        78,
        "table",
    );
    let text = stdout(&out);
    let lines = check_lines(&text);
    assert_every_check_listed(&lines, &text);
    assert_eq!(lines[1].0, "fail", "{text}");
    assert!(lines[1].1.contains("does not exist"), "{text}");
    assert_eq!(lines[4].0, "skip", "no write without a table: {text}");
    assert!(lines[4].1.contains("table"), "says why: {text}");
    assert_eq!(lines[9].0, "pass", "terraform is still checked: {text}");
}

#[test]
fn doctor_fails_on_a_wrong_key_schema() {
    let f = Fixture::new();
    let table = unique("wrongkey");
    f.dynamo.create_table(&table, "id", ScalarAttributeType::S);
    let out = fails(
        tflock(&f).args(["--table", &table, "--lock-key", "k", "doctor"]),
        78,
        "table",
    );
    let text = stdout(&out);
    assert!(text.contains("key schema id (S)"), "{text}");
    assert!(f.dynamo.scan(&table).is_empty(), "nothing written: {text}");
}

/// A backend as `terraform init` records it, naming a bucket that was never
/// created (init itself would refuse one).
fn backend_without_bucket(f: &Fixture, bucket: &str) -> PathBuf {
    let dir = f.path("nobucket");
    std::fs::create_dir_all(dir.join(".terraform")).unwrap();
    let state = serde_json::json!({
        "version": 3,
        "backend": {"type": "s3", "config": {
            "bucket": bucket, "key": "app/terraform.tfstate", "region": "us-east-1",
            "dynamodb_table": f.table, "use_path_style": true,
            "endpoints": {"s3": f.moto.endpoint(), "dynamodb": f.moto.endpoint()},
        }},
    });
    std::fs::write(dir.join(".terraform/terraform.tfstate"), state.to_string()).unwrap();
    dir
}

#[test]
fn doctor_fails_on_a_backend_whose_bucket_was_never_created() {
    let f = Fixture::new();
    let bucket = unique("neverbucket");
    let dir = backend_without_bucket(&f, &bucket);
    let out = fails(f.tflock_in(&dir).arg("doctor"), 78, "bucket");
    let text = stdout(&out);
    let lines = check_lines(&text);
    assert_every_check_listed(&lines, &text);
    assert_eq!(lines[5].0, "fail", "{text}");
    assert!(lines[5].1.contains(&bucket), "{text}");
    assert_eq!(
        (lines[6].0.as_str(), lines[7].0.as_str()),
        ("skip", "skip"),
        "{text}"
    );
    assert_eq!(lines[1].0, "pass", "the table is fine: {text}");

    // setup says the same about the bucket, after making the table ready.
    fails(
        f.tflock_in(&dir).arg("setup"),
        78,
        &format!("bucket {bucket} does not exist"),
    );
}

#[test]
fn doctor_without_a_backend_or_flags_fails_the_backend_check() {
    let f = Fixture::new();
    let out = fails(tflock(&f).arg("doctor"), 78, "backend");
    let text = stdout(&out);
    let lines = check_lines(&text);
    assert_every_check_listed(&lines, &text);
    assert_eq!(lines[0].0, "fail", "{text}");
    assert!(lines[0].1.contains("no terraform backend"), "{text}");
    for (status, rest) in &lines[1..9] {
        assert_eq!(status, "skip", "{rest}\n{text}");
    }
}

#[test]
fn doctor_fails_without_credentials_and_names_them() {
    let f = Fixture::new();
    let mut cmd = tflock(&f);
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["--table", &f.table, "--lock-key", "k", "doctor"]);
    let out = fails(&mut cmd, 69, "credentials");
    let text = stdout(&out);
    let lines = check_lines(&text);
    assert_every_check_listed(&lines, &text);
    assert_eq!(lines[3].0, "fail", "{text}");
    assert!(lines[3].1.contains("credentials"), "{text}");
}

#[test]
fn doctor_fails_when_terraform_is_missing() {
    let f = Fixture::new();
    let out = fails(
        tflock(&f).args([
            "--table",
            &f.table,
            "--lock-key",
            "k",
            "--terraform-bin",
            "no-such-terraform",
            "doctor",
        ]),
        78,
        "terraform",
    );
    let text = stdout(&out);
    let lines = check_lines(&text);
    assert_eq!(lines[9].0, "fail", "{text}");
    assert!(lines[9].1.contains("not found"), "{text}");
}
