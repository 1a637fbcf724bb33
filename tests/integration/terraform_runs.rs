//! Real terraform applies against the emulator's S3 backend.

use std::time::{Duration, Instant};

use crate::support::*;

/// (start, end) of each apply's provisioner, from the shared log.
fn intervals(log: &std::path::Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut starts = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        match (w.next(), w.next().and_then(|t| t.parse::<f64>().ok())) {
            (Some("start"), Some(t)) => starts.push(t),
            (Some("end"), Some(t)) => out.push((starts.remove(0), t)),
            _ => {}
        }
    }
    out
}

#[test]
fn concurrent_applies_all_succeed_one_after_another() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let log = f.path("applies.log");
    let log_var = format!("log={}", log.display());
    let runs: Vec<_> = (0..3)
        .map(|_| {
            spawn(f.tflock_in(&dir).args([
                "--lock-timeout",
                "3m",
                "apply",
                "-auto-approve",
                "-no-color",
                "-var",
                "sleep_seconds=1",
                "-var",
                &log_var,
            ]))
        })
        .collect();
    for run in runs {
        let out = finish(run, Duration::from_secs(180));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let mut iv = intervals(&log);
    assert_eq!(iv.len(), 3, "three applies ran: {iv:?}");
    iv.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in iv.windows(2) {
        assert!(pair[1].0 >= pair[0].1, "applies overlapped: {iv:?}");
    }
}

/// The control: without tflock, overlapping applies collide on terraform's
/// own lock, so the test above does exercise real contention.
#[test]
fn plain_terraform_applies_that_overlap_fail() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let mut cmd = std::process::Command::new("terraform");
            f.scrub(&mut cmd);
            spawn(cmd.current_dir(&dir).args([
                "apply",
                "-auto-approve",
                "-no-color",
                "-var",
                "sleep_seconds=3",
            ]))
        })
        .collect();
    let outs: Vec<_> = runs
        .into_iter()
        .map(|r| finish(r, Duration::from_secs(120)))
        .collect();
    let failed: Vec<_> = outs.iter().filter(|o| !o.status.success()).collect();
    assert_eq!(failed.len(), 1, "exactly one plain apply failed");
    assert!(
        stderr(failed[0]).contains("Error acquiring the state lock"),
        "{}",
        stderr(failed[0])
    );
}

#[test]
fn a_second_apply_fails_fast_with_75_and_terraform_lock_timeout_is_honoured() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let first = spawn(f.tflock_in(&dir).args([
        "apply",
        "-auto-approve",
        "-no-color",
        "-var",
        "sleep_seconds=4",
    ]));
    let key = f.terraform_lock_id();
    wait_until(
        "the first apply to hold the lease",
        Duration::from_secs(30),
        || f.lease_state(&key).as_deref() == Some("held"),
    );

    let start = Instant::now();
    let out = output(
        f.tflock_in(&dir)
            .args(["apply", "-auto-approve", "-no-color"]),
    );
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("lock {key} is held by")),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("(apply, pid"), "{}", stderr(&out));
    assert!(start.elapsed() < Duration::from_secs(4), "fails fast");

    // terraform's own -lock-timeout makes tflock wait too.
    let out =
        output(
            f.tflock_in(&dir)
                .args(["apply", "-auto-approve", "-no-color", "-lock-timeout=2m"]),
        );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(code(&finish(first, Duration::from_secs(60))), 0);
}

#[test]
fn plan_detailed_exitcode_passes_through() {
    let f = Fixture::new();
    f.terraform_dir("tf");
    // -C: run as if started in the terraform directory.
    let out = output(f.tflock_in(f.dir.path()).args([
        "-C",
        "tf",
        "plan",
        "-detailed-exitcode",
        "-no-color",
    ]));
    assert_eq!(code(&out), 2, "changes present: {}", stderr(&out));
    assert!(stdout(&out).contains("terraform_data.work will be created"));
    assert_eq!(
        f.lease_state(&f.terraform_lock_id()).as_deref(),
        Some("released"),
        "plan ran under the lease"
    );
}

#[test]
fn status_shows_terraform_lock_and_the_lease_records_its_id() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let run = spawn(f.tflock_in(&dir).args([
        "--lease",
        "2s",
        "apply",
        "-auto-approve",
        "-no-color",
        "-var",
        "sleep_seconds=4",
    ]));
    let key = f.terraform_lock_id();
    let mut status = serde_json::Value::Null;
    wait_until(
        "terraform's own lock to show in status",
        Duration::from_secs(30),
        || {
            let out = output(f.tflock_in(&dir).args(["status", "--output", "json"]));
            status = serde_json::from_str(&stdout(&out)).unwrap_or_default();
            status["terraform_lock"].is_object()
        },
    );
    assert_eq!(status["held"], true);
    assert_eq!(status["operation"], "apply");
    assert_eq!(status["lock_key"], key.as_str());
    let native = &status["terraform_lock"];
    assert_eq!(native["Operation"], "OperationTypeApply");
    assert_eq!(
        native["Who"], status["owner"],
        "terraform's Who is our user@host"
    );

    wait_until(
        "the lease to record terraform's lock ID",
        Duration::from_secs(20),
        || {
            f.lease_item(&key)
                .is_some_and(|i| dynamo::has(&i, "terraform_lock_id"))
        },
    );
    let recorded = dynamo::s(&f.lease_item(&key).unwrap(), "terraform_lock_id");
    assert_eq!(serde_json::Value::String(recorded), native["ID"]);
    assert_eq!(code(&finish(run, Duration::from_secs(60))), 0);
    assert!(
        f.dynamo.get(&f.table, &key).is_none(),
        "terraform released its own lock"
    );
}

#[test]
fn sigterm_during_apply_stops_terraform_gracefully_and_releases_both_locks() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let log = f.path("apply.log");
    let run = spawn(f.tflock_in(&dir).args([
        "apply",
        "-auto-approve",
        "-no-color",
        "-var",
        "sleep_seconds=30",
        "-var",
        &format!("log={}", log.display()),
    ]));
    wait_until("the provisioner to start", Duration::from_secs(30), || {
        log.exists()
    });
    signal(&run, nix::sys::signal::Signal::SIGTERM);
    let out = finish(run, Duration::from_secs(60));
    assert_ne!(code(&out), 0, "an interrupted apply fails");
    assert!(
        stdout(&out).contains("Interrupt received") || stderr(&out).contains("Interrupt received"),
        "terraform stopped gracefully: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let key = f.terraform_lock_id();
    assert_eq!(f.lease_state(&key).as_deref(), Some("released"));
    assert!(
        f.dynamo.get(&f.table, &key).is_none(),
        "terraform's own lock is gone too"
    );
}

#[test]
fn terraform_global_options_work_as_with_terraform() {
    let f = Fixture::new();
    f.terraform_dir("tf");
    // alias terraform=tflock: `terraform -chdir=tf plan` locks tf's state.
    let out = output(
        f.tflock_in(f.dir.path())
            .args(["-chdir=tf", "plan", "-no-color"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        f.lease_state(&f.terraform_lock_id()).as_deref(),
        Some("released"),
        "planned under the lease"
    );
    let out = output(f.tflock_in(f.dir.path()).arg("-version"));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("Terraform v"),
        "terraform's own -version: {}",
        stdout(&out)
    );
}
