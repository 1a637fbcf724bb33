//! Bad input: each gives its documented exit code and one clear line, never
//! a panic or a stack trace, and leaves the table as it found it.

use std::collections::HashMap;
use std::process::Command;

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};

use crate::support::*;

/// Runs and checks the code, a single `tflock: error:` line mentioning
/// `needle`, and no backtrace even with RUST_BACKTRACE=1.
fn fails(cmd: &mut Command, expected: i32, needle: &str) -> String {
    cmd.env("RUST_BACKTRACE", "1");
    let out = output(cmd);
    let err = stderr(&out);
    assert_eq!(code(&out), expected, "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("tflock: error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(
        !err.contains("backtrace")
            && !err.contains("panicked")
            && !err.contains("dispatch failure\n"),
        "{err}"
    );
    err
}

#[test]
fn no_backend_and_no_table_is_a_configuration_error() {
    let f = Fixture::new();
    let mut cmd = f.tflock_in(f.dir.path());
    fails(cmd.args(["run", "--", "true"]), 78, "no terraform backend");
    let mut cmd = f.tflock_in(f.dir.path());
    fails(
        cmd.args(["--table", "x", "apply"]),
        78,
        "--table and --lock-key",
    );
}

#[test]
fn a_corrupt_backend_file_is_a_configuration_error() {
    let f = Fixture::new();
    std::fs::create_dir(f.path(".terraform")).unwrap();
    std::fs::write(f.path(".terraform/terraform.tfstate"), "{\"backend\": {").unwrap();
    fails(
        f.tflock_in(f.dir.path()).args(["run", "--", "true"]),
        78,
        "is corrupt",
    );
    std::fs::write(
        f.path(".terraform/terraform.tfstate"),
        r#"{"backend":{"type":"gcs","config":{}}}"#,
    )
    .unwrap();
    fails(
        f.tflock_in(f.dir.path()).args(["run", "--", "true"]),
        78,
        "\"gcs\"",
    );
}

#[test]
fn a_missing_table_is_named() {
    let f = Fixture::new();
    fails(
        f.tflock("k")
            .args(["--table", "no-such-table", "run", "--", "true"]),
        78,
        "table no-such-table does not exist",
    );
}

#[test]
fn a_table_with_another_key_schema_is_refused_and_left_alone() {
    let f = Fixture::new();
    let table = unique("wrongkey");
    f.dynamo.create_table(&table, "id", ScalarAttributeType::S);
    fails(
        f.tflock("k").args(["--table", &table, "run", "--", "true"]),
        78,
        "key schema id (S)",
    );
    assert!(f.dynamo.scan(&table).is_empty());
    let numeric = unique("numkey");
    f.dynamo
        .create_table(&numeric, "LockID", ScalarAttributeType::N);
    fails(
        f.tflock("k")
            .args(["--table", &numeric, "run", "--", "true"]),
        78,
        "LockID (N)",
    );
    assert!(f.dynamo.scan(&numeric).is_empty());
}

#[test]
fn an_unreachable_endpoint_exits_69_with_the_cause() {
    let f = Fixture::new();
    let port = moto::free_port();
    let mut cmd = f.tflock("k");
    cmd.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"));
    let err = fails(
        cmd.args(["run", "--", "true"]),
        69,
        "cannot reach DynamoDB at",
    );
    assert!(
        err.contains("onnection refused"),
        "shows the cause chain: {err}"
    );
}

#[test]
fn missing_credentials_exit_69_naming_them() {
    let f = Fixture::new();
    let mut cmd = f.tflock("k");
    cmd.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let start = std::time::Instant::now();
    fails(cmd.args(["run", "--", "true"]), 69, "credentials");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "no wait on instance metadata"
    );
    assert!(f.dynamo.scan(&f.table).is_empty());
}

#[test]
fn bad_durations_are_configuration_errors() {
    let f = Fixture::new();
    for (flag, value, needle) in [
        ("--lease", "ten", "--lease: invalid duration \"ten\""),
        ("--lock-timeout", "5", "missing unit"),
        ("--heartbeat=-1s", "", "must not be negative"),
        ("--lease", "10ms", "too short"),
        ("--lock-timeout", "1y", "unknown unit"),
    ] {
        let mut cmd = f.tflock("k");
        cmd.arg(flag);
        if !value.is_empty() {
            cmd.arg(value);
        }
        fails(cmd.args(["run", "--", "true"]), 78, needle);
    }
    fails(
        f.tflock("k")
            .env("TFLOCK_LEASE", "abc")
            .args(["run", "--", "true"]),
        78,
        "invalid duration \"abc\"",
    );
    fails(
        f.tflock("k")
            .args(["--terraform-bin", "true", "apply", "-lock-timeout=soon"]),
        78,
        "-lock-timeout",
    );
    fails(
        f.tflock("k").args([
            "--lease",
            "9s",
            "--heartbeat",
            "3100ms",
            "run",
            "--",
            "true",
        ]),
        78,
        "more than a third of the lease",
    );
    assert!(f.dynamo.scan(&f.table).is_empty());
}

#[test]
fn a_missing_program_exits_127_without_touching_the_lock() {
    let f = Fixture::new();
    fails(
        f.tflock("k").args(["run", "--", "no-such-program-xyz"]),
        127,
        "no-such-program-xyz: command not found",
    );
    fails(
        f.tflock("k")
            .args(["--terraform-bin", "/nowhere/terraform", "apply"]),
        127,
        "command not found",
    );
    let plain = f.path("not-executable");
    std::fs::write(&plain, "echo hi\n").unwrap();
    fails(
        f.tflock("k").arg("run").arg("--").arg(&plain),
        126,
        "cannot execute",
    );
    fails(
        f.tflock("k")
            .args(["--terraform-bin", "no-such-tf", "version"]),
        127,
        "command not found",
    );
    assert!(f.dynamo.scan(&f.table).is_empty());
}

#[test]
fn a_script_whose_interpreter_is_missing_exits_126_saying_so() {
    // Found and executable, but its #! names nothing: a shell's "bad
    // interpreter" (126), not "command not found" (127).
    let f = Fixture::new();
    let script = f.path("deploy.sh");
    std::fs::write(&script, "#!/nonexistent/bash\necho hi\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    fails(
        f.tflock("k").arg("run").arg("--").arg(&script),
        126,
        "its interpreter (the #! line) or its loader was not found",
    );
    // terraform's place, for a command that takes no lock (exec'd).
    fails(
        f.tflock("k").arg("--terraform-bin").arg(&script).arg("fmt"),
        126,
        "its interpreter (the #! line) or its loader was not found",
    );
}

#[test]
fn a_garbled_lease_item_is_reported_and_never_overwritten() {
    let f = Fixture::new();
    let cases: Vec<(&str, HashMap<String, AttributeValue>)> = vec![
        ("no tflock format marker", HashMap::new()),
        (
            "fence is not a number",
            HashMap::from([
                ("tflock".into(), AttributeValue::S("lease-v2".into())),
                ("state".into(), AttributeValue::S("released".into())),
                ("fence".into(), AttributeValue::S("seven".into())),
            ]),
        ),
        (
            "is missing",
            HashMap::from([
                ("tflock".into(), AttributeValue::S("lease-v2".into())),
                ("state".into(), AttributeValue::S("held".into())),
                ("fence".into(), AttributeValue::N("3".into())),
            ]),
        ),
        (
            "unknown format",
            HashMap::from([("tflock".into(), AttributeValue::N("1".into()))]),
        ),
    ];
    for (i, (needle, mut item)) in cases.into_iter().enumerate() {
        let key = format!("garbled{i}");
        item.insert("LockID".into(), AttributeValue::S(format!("tflock:{key}")));
        item.insert("note".into(), AttributeValue::S("x".repeat(10_000)));
        let item = dynamo::lease_item(item);
        f.dynamo.put(&f.table, item.clone());
        let expect = if needle == "unknown format" {
            "not a string"
        } else {
            needle
        };
        let err = fails(f.tflock(&key).args(["run", "--", "true"]), 78, expect);
        assert!(err.contains("left untouched"), "{err}");
        assert_eq!(f.lease_item(&key).unwrap(), item, "item unchanged");
        fails(
            f.tflock(&key).arg("status"),
            78,
            "not a lease tflock can read",
        );
    }
}

#[test]
fn usage_errors_exit_64_never_2() {
    let f = Fixture::new();
    for args in [
        &["--no-such-flag", "apply"][..],
        &["run"],
        &["--output", "yaml", "status"],
        &["-q", "-v", "status"],
    ] {
        let err = fails(f.tflock("k").args(args), 64, "(see `tflock --help`)");
        assert!(!err.contains("Usage:"), "{err}");
    }
    let out = output(&mut f.tflock("k"));
    assert_eq!(code(&out), 64, "no command");
    assert!(
        stderr(&out).contains("requires a subcommand"),
        "{}",
        stderr(&out)
    );
    let mut bare = std::process::Command::new(crate::support::TFLOCK);
    f.scrub(&mut bare);
    let out = output(&mut bare);
    assert_eq!(
        code(&out),
        64,
        "no arguments at all: help on stderr, and 64"
    );
    assert!(stderr(&out).contains("Usage:") && stdout(&out).is_empty());
    let out = output(f.tflock("k").arg("--help"));
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("Exit codes"));
    assert!(f.dynamo.scan(&f.table).is_empty());
}

#[test]
fn non_utf8_and_huge_arguments_are_handled() {
    use std::os::unix::ffi::OsStrExt;
    let f = Fixture::new();
    let weird = std::ffi::OsStr::from_bytes(b"caf\xe9");
    let huge = "x".repeat(100_000);
    let out = output(
        f.tflock("k")
            .args(["run", "--", "sh", "-c", "exit 0"])
            .arg(weird)
            .arg(&huge),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let command = dynamo::holder_field(&f.lease_item("k").unwrap(), "command");
    assert!(
        command.len() < 4096,
        "stored command is bounded: {}",
        command.len()
    );
}

// Debug builds only: release builds do not honour TFLOCK_TEST_PANIC.
#[cfg(debug_assertions)]
#[test]
fn a_bug_is_one_line_and_exit_70_even_with_backtraces_asked_for() {
    // A panic would otherwise print a stack trace (RUST_BACKTRACE=1 is set
    // on many machines) and abort with 134, read as a signal.
    let f = Fixture::new();
    let said = fails(
        f.tflock("bug").env("TFLOCK_TEST_PANIC", "1").arg("status"),
        70,
        "internal error",
    );
    assert!(said.contains("please report it"), "{said}");
}

#[test]
fn a_tflock_option_after_the_terraform_command_is_a_usage_error_before_any_lock() {
    // terraform would reject it, after tflock had taken the lock.
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let said = fails(
        f.tflock_in(&dir)
            .args(["apply", "-auto-approve", "--lease", "1m"]),
        64,
        "`--lease` is tflock's option",
    );
    assert!(said.contains("put it before"), "{said}");
    assert!(
        f.lease_item(&f.terraform_lock_id()).is_none(),
        "no lock taken"
    );
    // Before it, spelled as terraform spells its flags.
    fails(
        f.tflock_in(&dir).args(["-lock-timeout=20m", "apply"]),
        64,
        "tflock's options take two dashes: --lock-timeout",
    );
}

#[test]
fn a_reader_that_went_away_is_no_error() {
    // `tflock history | head -1`: the reader got what it wanted. Not exit
    // 70 ("internal error"), which would fail a CI pipeline.
    let f = Fixture::new();
    assert_eq!(
        code(&output(f.tflock("gone").args(["run", "--", "true"]))),
        0
    );
    for report in [&["status"][..], &["history"], &["stats"]] {
        let (read, write) = nix::unistd::pipe().unwrap();
        drop(read);
        let out = output(
            f.tflock("gone")
                .args(report)
                .stdout(std::process::Stdio::from(write)),
        );
        assert_eq!(code(&out), 0, "{report:?}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{report:?}: {}", stderr(&out));
    }
}

#[test]
fn usage_errors_and_bugs_are_json_lines_when_json_is_asked_for() {
    // README: with --output json, tflock's own messages are JSON lines on
    // stderr, from the first (a command line clap rejects) on.
    let f = Fixture::new();
    let json_line = |out: &std::process::Output| -> serde_json::Value {
        let err = stderr(out);
        assert_eq!(err.lines().count(), 1, "{err}");
        serde_json::from_str(err.trim()).unwrap_or_else(|e| panic!("{e}: {err}"))
    };
    let out = output(f.tflock("k").args(["--output", "json", "--bogus", "apply"]));
    assert_eq!(code(&out), 64);
    let v = json_line(&out);
    assert_eq!(
        (&v["event"], &v["code"]),
        (&"error".into(), &64.into()),
        "{v}"
    );
    let out = output(
        f.tflock("k")
            .env("TFLOCK_OUTPUT", "json")
            .env("TFLOCK_STRICT", "maybe")
            .arg("status"),
    );
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert_eq!(json_line(&out)["code"], 78);
    if cfg!(debug_assertions) {
        let out = output(
            f.tflock("k")
                .env("TFLOCK_OUTPUT", "json")
                .env("TFLOCK_TEST_PANIC", "1")
                .arg("status"),
        );
        assert_eq!(code(&out), 70);
        assert_eq!(json_line(&out)["code"], 70);
    }
}
