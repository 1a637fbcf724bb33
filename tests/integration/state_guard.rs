//! The state guard (issue #4): writes to the state made outside the lock
//! are seen, reported, recorded, and (with --strict) refused until
//! acknowledged; versions and backups make them recoverable.

use std::time::Duration;

use crate::support::*;

const STATE_KEY: &str = "app/terraform.tfstate";

fn apply(f: &Fixture, dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    output(
        f.tflock_in(dir)
            .args(extra)
            .args(["apply", "-auto-approve", "-no-color"]),
    )
}

fn plain_terraform_apply(f: &Fixture, dir: &std::path::Path) {
    let mut cmd = std::process::Command::new("terraform");
    f.scrub(&mut cmd);
    let out = output(
        cmd.current_dir(dir)
            .args(["apply", "-auto-approve", "-no-color"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

fn put_state(f: &Fixture, body: &str) {
    let (status, _) = moto::s3(
        f.moto.port,
        "PUT",
        &format!("/{}/{STATE_KEY}", f.bucket),
        body.as_bytes(),
    );
    assert_eq!(status, 200);
}

fn status_state(f: &Fixture, dir: &std::path::Path) -> serde_json::Value {
    let out = output(f.tflock_in(dir).args(["status", "--output", "json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["state"].clone()
}

#[test]
fn a_plain_terraform_apply_between_guarded_runs_is_reported_and_recorded() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    // The first run: no state object yet, nothing to compare, no warning.
    let out = apply(&f, &dir, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("outside the lock"),
        "{}",
        stderr(&out)
    );
    let state = status_state(&f, &dir);
    assert_eq!(state["changed_outside_lock"], false, "{state}");
    let serial = state["serial"].as_u64().unwrap();

    plain_terraform_apply(&f, &dir);
    let state = status_state(&f, &dir);
    assert_eq!(state["changed_outside_lock"], true, "{state}");
    assert!(state["serial"].as_u64().unwrap() > serial);

    let out = apply(&f, &dir, &[]);
    assert_eq!(code(&out), 0, "not --strict: it runs: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("was written outside the lock"), "{err}");
    assert!(
        err.contains(&format!("serial {serial} when tflock last released it")),
        "{err}"
    );
    let key = f.terraform_lock_id();
    let events = f.history(&key);
    let outside = events
        .iter()
        .find(|e| e["kind"] == "outside_write")
        .expect("recorded");
    assert_eq!(outside["state_before"]["serial"], serial.to_string());
    let runs: Vec<_> = events.iter().filter(|e| e["kind"] == "run").collect();
    assert!(
        runs.iter().all(|r| r["state_after"].is_object()),
        "runs record the state: {runs:?}"
    );
    // Reported once: the run left its own state as the new baseline.
    let out = apply(&f, &dir, &[]);
    assert!(
        !stderr(&out).contains("outside the lock"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn strict_refuses_until_acknowledged() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    assert_eq!(code(&apply(&f, &dir, &[])), 0);
    plain_terraform_apply(&f, &dir);

    let out = apply(&f, &dir, &["--strict"]);
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tflock state ack"),
        "{}",
        stderr(&out)
    );
    // Still refused: nothing ran, the baseline is unchanged.
    let out = output(
        f.tflock_in(&dir)
            .env("TFLOCK_STRICT", "1")
            .args(["run", "--", "true"]),
    );
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert_eq!(
        f.lease_state(&f.terraform_lock_id()).as_deref(),
        Some("released"),
        "nothing left held"
    );

    let out = output(
        f.tflock_in(&dir)
            .args(["state", "ack", "--reason", "checked: a hotfix"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("acknowledged"), "{}", stdout(&out));
    let out = apply(&f, &dir, &["--strict"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let ack = f
        .history(&f.terraform_lock_id())
        .into_iter()
        .find(|e| e["kind"] == "state_ack")
        .expect("ack recorded");
    assert_eq!(ack["reason"], "checked: a hotfix");
    // terraform's own `state` subcommands still pass through.
    let out = output(f.tflock_in(&dir).args(["state", "list"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("terraform_data.work"));
}

#[test]
fn a_replaced_or_rolled_back_state_is_called_out() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let run = |f: &Fixture| output(f.tflock_in(&dir).args(["run", "--", "true"]));
    put_state(
        &f,
        r#"{"version": 4, "terraform_version": "1.11.4", "serial": 7, "lineage": "aaaa", "outputs": {}, "resources": []}"#,
    );
    assert_eq!(code(&run(&f)), 0);
    // Pushed from another configuration: another lineage.
    put_state(
        &f,
        r#"{"version": 4, "terraform_version": "1.11.4", "serial": 2, "lineage": "bbbb", "outputs": {}, "resources": []}"#,
    );
    let out = run(&f);
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("LINEAGE CHANGED"), "{}", stderr(&out));
    // Rolled back: same lineage, lower serial.
    put_state(
        &f,
        r#"{"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "bbbb", "outputs": {}, "resources": []}"#,
    );
    let out = run(&f);
    assert!(stderr(&out).contains("ROLLED BACK"), "{}", stderr(&out));
}

#[test]
fn a_state_that_is_not_json_is_reported_and_fatal_only_when_strict() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    put_state(&f, "this is not a terraform state");
    let out = output(f.tflock_in(&dir).args(["run", "--", "true"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a terraform state"),
        "{}",
        stderr(&out)
    );
    // The run above left it as the baseline; written again, it refuses.
    put_state(&f, "still not a terraform state");
    let strict = |f: &Fixture| output(f.tflock_in(&dir).args(["--strict", "run", "--", "true"]));
    let out = strict(&f);
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tflock state ack"),
        "{}",
        stderr(&out)
    );
    // Until acknowledged, as `state ack` promises.
    let out = output(f.tflock_in(&dir).args(["state", "ack"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = strict(&f);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a terraform state"),
        "still a warning: {}",
        stderr(&out)
    );
}

#[test]
fn versioned_buckets_record_versions_and_list_them() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let (status, _) = moto::s3(
        f.moto.port,
        "PUT",
        &format!("/{}?versioning", f.bucket),
        br#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>"#,
    );
    assert_eq!(status, 200);
    for _ in 0..2 {
        let out = apply(&f, &dir, &[]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let runs: Vec<_> = f
        .history(&f.terraform_lock_id())
        .into_iter()
        .filter(|e| e["kind"] == "run")
        .collect();
    let last = runs.last().unwrap();
    let (before, after) = (
        &last["state_before"]["version_id"],
        &last["state_after"]["version_id"],
    );
    assert!(
        before.is_string() && after.is_string() && before != after,
        "{last}"
    );
    let text = stdout(&output(f.tflock_in(&dir).arg("history")));
    assert!(
        text.contains("(version "),
        "history says which version: {text}"
    );

    let out = output(
        f.tflock_in(&dir)
            .args(["state", "versions", "--output", "json"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let versions: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let versions = versions.as_array().unwrap();
    assert!(versions.len() >= 2, "{versions:?}");
    assert!(
        versions.iter().all(|v| v["seen"]["serial"].is_u64()),
        "each with its serial: {versions:?}"
    );
    assert!(stdout(&output(f.tflock_in(&dir).args(["state", "versions"]))).contains("(current)"));
}

#[test]
fn a_backup_keeps_the_states_own_kms_encryption() {
    // A copy made without encryption settings gets the bucket's default:
    // a state under a customer key would be backed up readable without it.
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let key_arn = "arn:aws:kms:us-east-1:123456789012:key/state-key";
    let (status, _, _) = moto::s3_with(
        f.moto.port,
        "PUT",
        &format!("/{}/{STATE_KEY}", f.bucket),
        &[
            ("x-amz-server-side-encryption", "aws:kms"),
            ("x-amz-server-side-encryption-aws-kms-key-id", key_arn),
        ],
        br#"{"version": 4, "serial": 3, "lineage": "kms", "outputs": {}, "resources": []}"#,
    );
    assert_eq!(status, 200);
    let out = output(f.tflock_in(&dir).args(["--backup", "run", "--", "true"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let copy = stderr(&out)
        .split(&format!("s3://{}/", f.bucket))
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no backup named: {}", stderr(&out)));
    let (status, head, _) = moto::s3_with(
        f.moto.port,
        "HEAD",
        &format!("/{}/{copy}", f.bucket),
        &[],
        b"",
    );
    assert_eq!(status, 200, "{head}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("x-amz-server-side-encryption: aws:kms")
            && head.contains(&key_arn.to_ascii_lowercase()),
        "{head}"
    );
}

#[test]
fn backup_copies_the_state_when_the_bucket_keeps_no_versions() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    assert_eq!(code(&apply(&f, &dir, &[])), 0);
    let out = apply(&f, &dir, &["--backup"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("backed up the state"),
        "{}",
        stderr(&out)
    );
    let (_, listing) = moto::s3(
        f.moto.port,
        "GET",
        &format!(
            "/{}?list-type=2&prefix={STATE_KEY}.tflock-backup/",
            f.bucket
        ),
        b"",
    );
    assert!(
        listing.contains(&format!("{STATE_KEY}.tflock-backup/")),
        "{listing}"
    );
}

#[test]
fn a_backup_that_cannot_be_made_refuses_the_run() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    assert_eq!(code(&apply(&f, &dir, &[])), 0);
    // The state bucket becomes unreachable (its endpoint a closed port);
    // the lock table is still there.
    let init = dir.join(".terraform/terraform.tfstate");
    let mut backend: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&init).unwrap()).unwrap();
    backend["backend"]["config"]["endpoints"]["s3"] = "http://127.0.0.1:9".into();
    std::fs::write(&init, backend.to_string()).unwrap();

    let out = output(
        f.tflock_in(&dir)
            .args(["--backup", "run", "--", "touch", "ran"]),
    );
    assert_eq!(code(&out), 69, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not running (--backup)"),
        "{}",
        stderr(&out)
    );
    assert!(
        !dir.join("ran").exists(),
        "the command ran without its backup"
    );
    let status = output(f.tflock_in(&dir).args(["status", "--output", "json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(v["held"], false, "the refused run left its lease behind");

    // Without --backup an unreadable state is a warning, not a refusal.
    let out = output(f.tflock_in(&dir).args(["run", "--", "touch", "ran"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("could not read the state"),
        "{}",
        stderr(&out)
    );
    assert!(dir.join("ran").exists());
}

#[test]
fn lockfile_backends_are_shown_and_recovered() {
    let f = Fixture::new();
    let dir = f.terraform_dir_with_lockfile("tf");
    // No DynamoDB table in the backend: tflock says what it needs.
    let mut cmd = f.tflock_in(&dir);
    let out = output(cmd.args(["apply", "-auto-approve", "-no-color"]));
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("use_lockfile") && stderr(&out).contains("--table"),
        "{}",
        stderr(&out)
    );

    let lockfile = format!("/{}/{STATE_KEY}.tflock", f.bucket);
    let mut cmd = f.tflock_in(&dir);
    cmd.env("TFLOCK_TABLE", &f.table);
    let mut run = spawn(cmd.args([
        "--lease",
        "3s",
        "apply",
        "-auto-approve",
        "-no-color",
        "-var",
        "sleep_seconds=60",
    ]));
    wait_until("terraform's lockfile", Duration::from_secs(30), || {
        moto::s3(f.moto.port, "GET", &lockfile, b"").0 == 200
    });
    let mut cmd = f.tflock_in(&dir);
    let out = output(
        cmd.env("TFLOCK_TABLE", &f.table)
            .args(["status", "--output", "json"]),
    );
    let status: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(status["held"], true);
    assert_eq!(
        status["terraform_lockfile"]["Who"], status["owner"],
        "{status}"
    );

    kill_everything(&mut run);
    let mut cmd = f.tflock_in(&dir);
    let out = output(
        cmd.env("TFLOCK_TABLE", &f.table)
            .args(["force-unlock", "--verify"]),
    );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("terraform lockfile"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        moto::s3(f.moto.port, "GET", &lockfile, b"").0,
        404,
        "the dead holder's lockfile is gone"
    );
    let mut cmd = f.tflock_in(&dir);
    let out =
        output(
            cmd.env("TFLOCK_TABLE", &f.table)
                .args(["apply", "-auto-approve", "-no-color"]),
        );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn state_ack_while_a_run_holds_the_lock_says_held() {
    let f = Fixture::new();
    let dir = f.terraform_dir("app");
    let log = f.path("holder.log");
    let mut holder = spawn(
        f.tflock_in(&dir)
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "60"])),
    );
    wait_child_ready("the holder's child", &log);
    let out = output(f.tflock_in(&dir).args(["state", "ack"]));
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("is held by") && err.contains("acknowledge once it is free"),
        "{err}"
    );
    kill_everything(&mut holder);
}

#[test]
fn a_lease_that_lapses_before_the_command_starts_starts_nothing() {
    // The backup before the command is slow (its copy held 4 s by the
    // proxy; the state reads are bounded, a copy is not) and nothing renews
    // the lease until the command starts: a waiter elsewhere may prove it
    // stale and take it over meanwhile. The slow run must then start
    // nothing (77), not run beside the new holder.
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    assert_eq!(code(&apply(&f, &dir, &[])), 0);
    let proxy = crate::support::proxy::Proxy::start(f.moto.port);
    let init = dir.join(".terraform/terraform.tfstate");
    let mut backend: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&init).unwrap()).unwrap();
    backend["backend"]["config"]["endpoints"]["s3"] = proxy.endpoint().into();
    std::fs::write(&init, backend.to_string()).unwrap();
    proxy.hold_requests_containing("x-amz-copy-source", Duration::from_secs(4), 1);

    let key = f.terraform_lock_id();
    let slow_log = f.path("slow.log");
    let mut cmd = f.tflock_elsewhere(&key, "slow-host", None);
    let slow = spawn(
        cmd.current_dir(&dir)
            .args(["--lease", "1s", "--backup", "run"])
            .args(f.sigchild(&slow_log, &[])),
    );
    wait_until(
        "the slow run holds the lease",
        Duration::from_secs(10),
        || f.lease_state(&key).as_deref() == Some("held"),
    );
    let taker_log = f.path("taker.log");
    let taker = spawn(
        f.tflock_in(&dir)
            .args(["--takeover-stale", "--lock-timeout", "60s", "run"])
            .args(f.sigchild(&taker_log, &[])),
    );
    let out = finish(slow, Duration::from_secs(40));
    assert_eq!(code(&out), 77, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("could not be confirmed before the command started"),
        "{}",
        stderr(&out)
    );
    assert!(!slow_log.exists(), "the slow run's command started");
    proxy.set(crate::support::proxy::Mode::Forward);
    let out = finish(taker, Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("taking it over"), "{}", stderr(&out));
    assert!(taker_log.exists());
}

#[test]
fn state_ack_never_replaces_a_newer_baseline_with_an_older_look() {
    // `state ack` reads the state, and the answer reaches it 3 s late (a
    // proxy holds it); meanwhile a guarded run takes the lock, writes the
    // state and leaves its own baseline. The ack must not replace that
    // baseline with the state as it was before the run: it reads both
    // again and acknowledges the state as it is.
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    assert_eq!(code(&apply(&f, &dir, &[])), 0);
    plain_terraform_apply(&f, &dir);
    let proxy = crate::support::proxy::Proxy::start(f.moto.port);
    let acker = f.path("acker");
    std::fs::create_dir_all(acker.join(".terraform")).unwrap();
    let mut backend: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".terraform/terraform.tfstate")).unwrap(),
    )
    .unwrap();
    backend["backend"]["config"]["endpoints"]["s3"] = proxy.endpoint().into();
    std::fs::write(
        acker.join(".terraform/terraform.tfstate"),
        backend.to_string(),
    )
    .unwrap();
    proxy.next(
        1,
        crate::support::proxy::Mode::DelayAnswer(Duration::from_secs(3)),
    );
    let mut ack = spawn(f.tflock_in(&acker).args(["state", "ack"]));
    wait_until(
        "the ack's look at the state",
        Duration::from_secs(10),
        || proxy.held_answers() == 1,
    );
    // The guarded run's command writes the state (an S3 PUT).
    let put = "import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1], sys.argv[2].encode(), \
               method='PUT', headers={'Content-Type': 'application/octet-stream', 'Authorization': \
               'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0'}))";
    let url = format!("{}/{}/{STATE_KEY}", f.moto.endpoint(), f.bucket);
    let body = r#"{"version":4,"terraform_version":"1.11.4","serial":90,"lineage":"written-under-the-lock","outputs":{},"resources":[]}"#;
    let out = output(
        f.tflock_in(&dir)
            .args(["run", "--", &moto::python(), "-c", put, &url, body]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        ack.try_wait().unwrap().is_none(),
        "the run came and went while the ack waited for its answer"
    );
    let out = finish(ack, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let state = status_state(&f, &dir);
    assert_eq!(state["serial"], 90, "{state}");
    assert_eq!(state["changed_outside_lock"], false, "{state}");
}

#[test]
fn a_write_while_an_uncontended_acquisition_is_slow_is_seen() {
    // The state read sent beside the acquisition stands for the state at
    // the acquisition only when that was quick: here the acquisition is
    // held 3 s (a slow or retried request), and the state written after
    // the early read and before the lock was granted.
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let run = |f: &Fixture| output(f.tflock_in(&dir).args(["run", "--", "true"]));
    put_state(
        &f,
        r#"{"version": 4, "terraform_version": "1.11.4", "serial": 7, "lineage": "aaaa", "outputs": {}, "resources": []}"#,
    );
    assert_eq!(code(&run(&f)), 0, "the baseline");
    let proxy = f.proxied(&dir);
    // `:one`: the fence's increment, in the acquisition only.
    proxy.hold_next_containing(":one", Duration::from_secs(3));
    let running = spawn(f.tflock_in(&dir).args(["run", "--", "true"]));
    wait_until(
        "the acquisition held, the early read answered",
        Duration::from_secs(10),
        || proxy.holding() == 1 && proxy.answered(&format!("GET /{}/", f.bucket)) == 1,
    );
    put_state(
        &f,
        r#"{"version": 4, "terraform_version": "1.11.4", "serial": 8, "lineage": "aaaa", "outputs": {}, "resources": []}"#,
    );
    let out = finish(running, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("was written outside the lock"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn strict_refuses_a_run_whose_state_cannot_be_read_to_check() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let run = |f: &Fixture, extra: &[&str]| {
        output(f.tflock_in(&dir).args(extra).args(["run", "--", "true"]))
    };
    assert_eq!(code(&run(&f, &[])), 0, "the baseline");
    let proxy = f.proxied(&dir);
    // Every read of the state fails (the SDK's retries included).
    proxy.fail_requests_containing("GET /", 100);
    let out = run(&f, &["--strict"]);
    assert_eq!(code(&out), 69, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not running (--strict)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        f.lease_state(&f.terraform_lock_id()).as_deref(),
        Some("released")
    );
    // Without --strict it runs, and says what it could not check.
    let out = run(&f, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("could not read the state"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_read_after_the_command_is_given_up_within_a_third_of_a_lease() {
    // The heartbeat has stopped by then: a read slow enough to let the
    // lease go stale would make a finished run look lease-lost.
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let proxy = f.proxied(&dir);
    let started = f.path("started");
    let running = spawn(f.tflock_in(&dir).args([
        "--lease",
        "3s",
        "run",
        "--",
        "sh",
        "-c",
        &format!("touch {}; sleep 2", started.display()),
    ]));
    // The command has started: every read before it is done.
    wait_until("the command", Duration::from_secs(10), || started.exists());
    proxy.hold_next_containing("GET /", Duration::from_secs(20));
    let out = finish(running, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("could not read the state") && stderr(&out).contains("within 1s"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        f.lease_state(&f.terraform_lock_id()).as_deref(),
        Some("released")
    );
}

#[test]
fn ctrl_c_while_waiting_does_not_wait_for_a_slow_state_read() {
    // The state is read beside the wait; an interrupted wait ends at once
    // (DESIGN §5), not when that read gives up.
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let log = f.path("holder.log");
    let holder = spawn(
        f.tflock_in(&dir)
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "30"])),
    );
    wait_child_ready("the holder's child", &log);
    let proxy = f.proxied(&dir);
    // Every attempt of the waiter's state read hangs (the SDK gives each 5 s).
    proxy.hold_requests_containing("GET /", Duration::from_secs(30), 3);
    let waiter_err = f.path("waiter.err");
    let waiter = f
        .tflock_in(&dir)
        .args(["--lock-timeout", "5m", "run", "--", "true"])
        .stderr(std::fs::File::create(&waiter_err).unwrap())
        .spawn()
        .unwrap();
    wait_until(
        "the waiter to wait, its state read held",
        Duration::from_secs(20),
        || {
            proxy.holding() == 1
                && std::fs::read_to_string(&waiter_err)
                    .unwrap_or_default()
                    .contains("waiting")
        },
    );
    signal(&waiter, nix::sys::signal::Signal::SIGINT);
    // Within 10 s: the held read alone would take 15 s to give up.
    let out = finish(waiter, Duration::from_secs(10));
    assert_eq!(
        code(&out),
        130,
        "{}",
        std::fs::read_to_string(&waiter_err).unwrap()
    );
    signal(&holder, nix::sys::signal::Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
}

#[test]
fn one_lock_key_for_two_states_is_no_write_outside_the_lock() {
    // `--lock-key` naming one key for two states (here two workspaces):
    // each state's runs remember their own state, and the other's is not
    // a write outside the lock (nor, with --strict, a refusal).
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    put_state(
        &f,
        r#"{"version": 4, "terraform_version": "1.11.4", "serial": 7, "lineage": "aaaa", "outputs": {}, "resources": []}"#,
    );
    let run = |workspace: &str| {
        output(f.tflock_in(&dir).env("TF_WORKSPACE", workspace).args([
            "--strict",
            "--lock-key",
            "shared",
            "run",
            "--",
            "true",
        ]))
    };
    for workspace in ["default", "other", "default"] {
        let out = run(workspace);
        assert_eq!(code(&out), 0, "{workspace}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("outside the lock"),
            "{workspace}: {}",
            stderr(&out)
        );
    }
}
