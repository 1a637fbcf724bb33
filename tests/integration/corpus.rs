//! The bad-input corpus (issue #7): every case gives its documented exit
//! code and one clear line, never a panic or a backtrace, and leaves the
//! table exactly as it found it.

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};

use crate::support::*;

/// What a case prepares in its own directory before running.
enum Setup {
    None,
    /// `.terraform/terraform.tfstate` with these contents.
    InitState(&'static [u8]),
    /// A lease item for the case's key with these attributes.
    LeaseItem(Vec<(&'static str, AttributeValue)>),
    /// A file in the directory (for -C / programs).
    File(&'static str, &'static [u8], u32),
}

struct Case {
    name: &'static str,
    args: Vec<OsString>,
    env: Vec<(&'static str, &'static str)>,
    setup: Setup,
    code: i32,
    needle: &'static str,
}

fn case(name: &'static str, args: &[&str], code: i32, needle: &'static str) -> Case {
    Case {
        name,
        args: args.iter().map(OsString::from).collect(),
        env: Vec::new(),
        setup: Setup::None,
        code,
        needle,
    }
}

impl Case {
    fn env(mut self, k: &'static str, v: &'static str) -> Case {
        self.env.push((k, v));
        self
    }
    fn setup(mut self, s: Setup) -> Case {
        self.setup = s;
        self
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.into())
}

fn cases() -> Vec<Case> {
    let s3_no_bucket = br#"{"version":3,"backend":{"type":"s3","config":{"key":"k","region":"us-east-1","dynamodb_table":"t"}}}"#;
    vec![
        // terraform refuses `-chdir DIR`: so does tflock, before any lock.
        case(
            "-chdir without =",
            &["-chdir", "infra", "apply"],
            64,
            "must include an equals sign",
        ),
        case(
            "-chdir without = under run",
            &["run", "--", "terraform", "-chdir", "infra", "plan"],
            64,
            "like -chdir=example",
        ),
        // Durations: configuration errors (78).
        case(
            "word lease",
            &["--lease", "abc", "run", "--", "true"],
            78,
            "invalid duration \"abc\"",
        ),
        case(
            "bare number",
            &["--lease", "10", "run", "--", "true"],
            78,
            "missing unit",
        ),
        case(
            "negative",
            &["--lease=-5s", "run", "--", "true"],
            78,
            "must not be negative",
        ),
        case(
            "unknown unit",
            &["--lease", "5x", "run", "--", "true"],
            78,
            "unknown unit",
        ),
        case(
            "exponent",
            &["--lease", "1e3s", "run", "--", "true"],
            78,
            "invalid duration",
        ),
        case(
            "huge",
            &["--lease", "99999999999999h", "run", "--", "true"],
            78,
            "too large",
        ),
        case(
            "lease too short",
            &["--lease", "500ms", "run", "--", "true"],
            78,
            "too short",
        ),
        case(
            "zero heartbeat",
            &["--heartbeat", "0", "run", "--", "true"],
            78,
            "too short",
        ),
        case(
            "heartbeat over lease/3",
            &["--heartbeat", "11s", "run", "--", "true"],
            78,
            "more than a third of the lease",
        ),
        case(
            "word lock timeout",
            &["--lock-timeout", "forever", "run", "--", "true"],
            78,
            "--lock-timeout",
        ),
        case(
            "word max duration",
            &["--max-duration", "soon", "run", "--", "true"],
            78,
            "--max-duration",
        ),
        case(
            "word retention",
            &["--history-retention", "x", "run", "--", "true"],
            78,
            "--history-retention",
        ),
        case("env lease", &["run", "--", "true"], 78, "--lease").env("TFLOCK_LEASE", "abc"),
        case("env heartbeat", &["run", "--", "true"], 78, "--heartbeat")
            .env("TFLOCK_HEARTBEAT", "zzz"),
        case(
            "terraform lock timeout",
            &["--terraform-bin", "true", "apply", "-lock-timeout=bad"],
            78,
            "-lock-timeout",
        ),
        case(
            "terraform lock timeout without value",
            &["--terraform-bin", "true", "apply", "-lock-timeout"],
            78,
            "needs a value",
        ),
        case(
            "bad since",
            &["history", "--since", "last week"],
            78,
            "--since",
        ),
        // Usage errors (64), never 2.
        case(
            "unknown flag",
            &["--bogus", "run", "--", "true"],
            64,
            "unexpected argument",
        ),
        case(
            "unknown short flag",
            &["-Z", "status"],
            64,
            "unexpected argument",
        ),
        case("run without command", &["run"], 64, "required"),
        case(
            "force-unlock without a way",
            &["force-unlock"],
            64,
            "required",
        ),
        case(
            "force-unlock both ways",
            &["force-unlock", "--verify", "abc"],
            64,
            "cannot be used",
        ),
        case(
            "keep without verify",
            &["force-unlock", "--keep-terraform-lock", "abc"],
            64,
            "--verify",
        ),
        case(
            "yes with verify",
            &["force-unlock", "--verify", "--yes"],
            64,
            "cannot be used",
        ),
        case(
            "bad output format",
            &["--output", "yaml", "status"],
            64,
            "invalid value",
        ),
        case(
            "quiet and verbose",
            &["-q", "-v", "status"],
            64,
            "cannot be used",
        ),
        case(
            "status with an argument",
            &["status", "extra"],
            64,
            "unexpected argument",
        ),
        case(
            "missing option value",
            &["history", "--since"],
            64,
            "value is required",
        ),
        case(
            "takeover flag given a value",
            &["--takeover-stale=maybe", "run", "--", "true"],
            64,
            "unexpected value",
        ),
        case(
            "state versions bad limit",
            &["state", "versions", "--limit", "x"],
            64,
            "invalid value",
        ),
        // Configuration (78).
        case(
            "bad takeover env",
            &["run", "--", "true"],
            78,
            "(from TFLOCK_TAKEOVER_STALE)",
        )
        .env("TFLOCK_TAKEOVER_STALE", "maybe"),
        case(
            "bad strict env",
            &["run", "--", "true"],
            78,
            "(from TFLOCK_STRICT)",
        )
        .env("TFLOCK_STRICT", "sometimes"),
        case("bad output env", &["status"], 78, "(from TFLOCK_OUTPUT)").env("TFLOCK_OUTPUT", "xml"),
        case(
            "no backend",
            &["run", "--", "true"],
            78,
            "no terraform backend",
        )
        .env("TFLOCK_LOCK_KEY", ""),
        case(
            "truncated init state",
            &["run", "--", "true"],
            78,
            "is corrupt",
        )
        .setup(Setup::InitState(b"{\"backend\": {")),
        case("array init state", &["run", "--", "true"], 78, "is corrupt")
            .setup(Setup::InitState(b"[]")),
        case(
            "binary init state",
            &["run", "--", "true"],
            78,
            "is corrupt",
        )
        .setup(Setup::InitState(b"\xff\xfe\x00garbage")),
        case(
            "s3 backend without bucket",
            &["run", "--", "true"],
            78,
            "no bucket",
        )
        .env("TFLOCK_LOCK_KEY", "")
        .setup(Setup::InitState(s3_no_bucket)),
        case("gcs backend", &["run", "--", "true"], 78, "\"gcs\"")
            .env("TFLOCK_LOCK_KEY", "")
            .setup(Setup::InitState(
                br#"{"version":3,"backend":{"type":"gcs","config":{}}}"#,
            )),
        case(
            "missing table",
            &["--table", "no-such-table", "run", "--", "true"],
            78,
            "does not exist",
        ),
        case(
            "chdir to nowhere",
            &["-C", "/no/such/dir", "run", "--", "true"],
            78,
            "-C /no/such/dir",
        ),
        case(
            "chdir to a file",
            &["-C", "afile", "run", "--", "true"],
            78,
            "-C afile",
        )
        .setup(Setup::File("afile", b"x", 0o644)),
        case(
            "lease item without marker",
            &["run", "--", "true"],
            78,
            "no tflock format marker",
        )
        .setup(Setup::LeaseItem(vec![("state", s("held"))])),
        case(
            "lease item of a newer format",
            &["run", "--", "true"],
            78,
            "unknown format",
        )
        .setup(Setup::LeaseItem(vec![
            ("tflock", s("lease-v9")),
            ("state", s("held")),
        ])),
        case(
            "lease item with a number state",
            &["status"],
            78,
            "state is not a string",
        )
        .setup(Setup::LeaseItem(vec![
            ("tflock", s("lease-v2")),
            ("state", n("1")),
        ])),
        case(
            "lease item with a text fence",
            &["run", "--", "true"],
            78,
            "fence is not a number",
        )
        .setup(Setup::LeaseItem(vec![
            ("tflock", s("lease-v2")),
            ("state", s("released")),
            ("fence", s("seven")),
        ])),
        case(
            "lease item with a huge value",
            &["status"],
            78,
            "not a lease tflock can read",
        )
        .setup(Setup::LeaseItem(vec![
            ("tflock", s("lease-v2")),
            ("state", s("held")),
            ("junk", s(&"x".repeat(300_000))),
        ])),
        case(
            "holder that is not a map",
            &["status"],
            78,
            "holder is not a map",
        )
        .setup(Setup::LeaseItem(vec![
            ("tflock", s("lease-v2")),
            ("state", s("held")),
            ("owner_token", s("t")),
            ("rvn", s("r")),
            ("fence", n("1")),
            ("holder", s("alice")),
        ])),
        // The service (69).
        case(
            "unreachable endpoint",
            &["run", "--", "true"],
            69,
            "cannot reach",
        )
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        case("no credentials", &["run", "--", "true"], 69, "credentials")
            .env("AWS_ACCESS_KEY_ID", "")
            .env("AWS_SECRET_ACCESS_KEY", ""),
        // The child (127/126).
        case(
            "missing program",
            &["run", "--", "no-such-program-xyz"],
            127,
            "command not found",
        ),
        case(
            "empty program",
            &["run", "--", ""],
            127,
            "command not found",
        ),
        case(
            "program is a directory",
            &["run", "--", "/tmp"],
            126,
            "is a directory",
        ),
        case(
            "program not executable",
            &["run", "--", "./plain"],
            126,
            "cannot execute",
        )
        .setup(Setup::File("plain", b"echo hi", 0o644)),
        case(
            "missing terraform",
            &["--terraform-bin", "/no/terraform", "apply"],
            127,
            "command not found",
        ),
    ]
}

fn prepare(f: &Fixture, dir: &Path, key: &str, setup: &Setup) {
    match setup {
        Setup::None => {}
        Setup::InitState(text) => {
            std::fs::create_dir_all(dir.join(".terraform")).unwrap();
            std::fs::write(dir.join(".terraform/terraform.tfstate"), text).unwrap();
        }
        Setup::LeaseItem(attrs) => {
            let mut item: HashMap<String, AttributeValue> = attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            item.insert("LockID".into(), AttributeValue::S(format!("tflock:{key}")));
            f.dynamo.put(&f.table, dynamo::lease_item(item));
        }
        Setup::File(name, text, mode) => {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode)).unwrap();
        }
    }
}

#[test]
fn every_bad_input_gets_its_code_and_one_line_and_changes_nothing() {
    let f = Fixture::new();
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let dir: PathBuf = f.path(&format!("case{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let key = format!("corpus{i}");
        prepare(&f, &dir, &key, &c.setup);
        let before = f.dynamo.scan(&f.table);
        let mut cmd = f.tflock(&key);
        cmd.current_dir(&dir).env("RUST_BACKTRACE", "1");
        for (k, v) in &c.env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let out = output(cmd.args(&c.args));
        let err = stderr(&out);
        let mut problems = Vec::new();
        if code(&out) != c.code {
            problems.push(format!("exit {} (expected {})", code(&out), c.code));
        }
        if c.code != 0 {
            if err.lines().count() != 1 || !err.starts_with("tflock: error: ") {
                problems.push("not one `tflock: error:` line".to_string());
            }
            if !err.contains(c.needle) {
                problems.push(format!("no {:?}", c.needle));
            }
        }
        if err.contains("panicked") || err.contains("backtrace") {
            problems.push("panic or backtrace".to_string());
        }
        let after = f.dynamo.scan(&f.table);
        if before.len() != after.len() || before.iter().any(|i| !after.contains(i)) {
            problems.push("the table changed".to_string());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({:?}): {}\n    stderr: {err}",
                c.name,
                c.args,
                problems.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn odd_but_valid_arguments_are_handled() {
    let f = Fixture::new();
    // Not UTF-8, 120 KiB long, control characters: passed untouched.
    let weird = OsString::from_vec(b"caf\xe9\x00".iter().copied().filter(|b| *b != 0).collect());
    // The kernel limits one argument to 128 KiB.
    let huge = OsString::from("y".repeat(120 << 10));
    let out = output(
        f.tflock("odd")
            .args(["run", "--", "sh", "-c", "exit 0"])
            .arg(&weird)
            .arg(&huge)
            .arg("\x07\x1b[31m"),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let command = dynamo::holder_field(&f.lease_item("odd").unwrap(), "command");
    assert!(command.len() < 4096);
    // A wrong key schema leaves the table alone.
    let table = unique("schema");
    f.dynamo
        .create_table(&table, "LockID", ScalarAttributeType::N);
    let out = output(
        f.tflock("odd")
            .args(["--table", &table, "run", "--", "true"]),
    );
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert!(f.dynamo.scan(&table).is_empty());
}
