//! `tflock run`: the lease around any command.

use std::time::{Duration, Instant};

use crate::support::*;

#[test]
fn exit_codes_pass_through_and_the_lease_is_released() {
    let f = Fixture::new();
    for (script, expected) in [
        ("exit 0", 0),
        ("exit 3", 3),
        ("exit 2", 2),
        ("kill -TERM $$", 143),
        ("kill -KILL $$", 137),
    ] {
        let out = output(f.tflock("codes").args(["run", "--", "sh", "-c", script]));
        assert_eq!(code(&out), expected, "{script}: {}", stderr(&out));
        assert_eq!(
            f.lease_state("codes").as_deref(),
            Some("released"),
            "{script}"
        );
    }
}

#[test]
fn child_sees_the_lock_and_fences_grow() {
    let f = Fixture::new();
    let log = f.path("child.log");
    for expected_fence in ["1", "2"] {
        let out = output(f.tflock("env").arg("run").args(f.sigchild(&log, &[])));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let ready = child_log(&log)
            .into_iter()
            .rfind(|(e, _, _)| e == "ready")
            .unwrap()
            .1;
        let words: Vec<&str> = ready.split(' ').collect();
        assert_eq!(words[1], "env", "TFLOCK_LOCK_KEY");
        assert_eq!(words[2], expected_fence, "TFLOCK_FENCE");
        assert!(
            words[3].contains('@'),
            "TFLOCK_OWNER is user@host: {}",
            words[3]
        );
        let item = f.lease_item("env").unwrap();
        assert_eq!(words[4], dynamo::s(&item, "owner_token"), "TFLOCK_TOKEN");
        assert_eq!(
            dynamo::s(&item, "fence"),
            expected_fence,
            "the fence survives release"
        );
    }
}

#[test]
fn a_second_run_fails_fast_naming_the_holder() {
    let f = Fixture::new();
    let log = f.path("holder.log");
    let holder = spawn(
        f.tflock("busy")
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "30"])),
    );
    wait_child_ready("the holder's child to start", &log);

    let start = Instant::now();
    let out = output(f.tflock("busy").args(["run", "--", "true"]));
    let took = start.elapsed();
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("lock busy is held by"), "{err}");
    assert!(err.contains("run: python"), "names the operation: {err}");
    assert!(
        err.contains(&format!("pid {}", holder.id())),
        "names the pid: {err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        took < Duration::from_secs(10),
        "fails at once, not after a wait ({took:?})"
    );

    signal(&holder, nix::sys::signal::Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
    assert_eq!(f.lease_state("busy").as_deref(), Some("released"));
}

#[test]
fn lock_timeout_waits_then_runs_after_the_holder() {
    let f = Fixture::new();
    let first_log = f.path("first.log");
    let second_log = f.path("second.log");
    let first = spawn(
        f.tflock("queue")
            .arg("run")
            .args(f.sigchild(&first_log, &["--sleep", "2"])),
    );
    wait_child_ready("the first child to start", &first_log);

    let out = output(
        f.tflock("queue")
            .args(["--lock-timeout", "60s", "run"])
            .args(f.sigchild(&second_log, &[])),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("waiting"),
        "says it waits: {}",
        stderr(&out)
    );
    let first_out = finish(first, Duration::from_secs(20));
    assert_eq!(code(&first_out), 0);

    let first_exit = child_log(&first_log)
        .into_iter()
        .find(|(e, _, _)| e == "exit")
        .unwrap()
        .2;
    let second_start = child_log(&second_log)
        .into_iter()
        .find(|(e, _, _)| e == "ready")
        .unwrap()
        .2;
    assert!(
        second_start > first_exit,
        "the second child started only after the first ended"
    );
}

#[test]
fn lock_timeout_gives_up_with_75() {
    let f = Fixture::new();
    let log = f.path("holder.log");
    let holder = spawn(
        f.tflock("slow")
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "30"])),
    );
    wait_child_ready("the holder's child to start", &log);

    let start = Instant::now();
    let out = output(
        f.tflock("slow")
            .args(["--lock-timeout", "1500ms", "run", "--", "true"]),
    );
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(start.elapsed() >= Duration::from_millis(1500));
    assert!(stderr(&out).contains("gave up after"), "{}", stderr(&out));

    signal(&holder, nix::sys::signal::Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
}

#[test]
fn the_lease_record_names_the_run_without_its_secrets() {
    let f = Fixture::new();
    let log = f.path("child.log");
    let mut cmd = f.tflock("record");
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/infra")
        .env("GITHUB_RUN_ID", "99")
        .env("SECRET_ENV", "do-not-store")
        .args([
            "run",
            "--",
            "sh",
            "-c",
            "echo ready >> \"$0\"; sleep 30",
            log.to_str().unwrap(),
        ])
        .args([
            "-var",
            "db_password=hunter2",
            "-backend-config=secret_key=s3cr3t",
        ]);
    let holder = spawn(&mut cmd);
    wait_until("the child to start", Duration::from_secs(20), || {
        log.exists()
    });

    let item = f.lease_item("record").expect("lease item");
    assert_eq!(dynamo::s(&item, "state"), "held");
    assert_eq!(dynamo::holder_field(&item, "operation"), "run: sh");
    assert_eq!(dynamo::holder_field(&item, "pid"), holder.id().to_string());
    assert!(dynamo::holder_field(&item, "who").contains('@'));
    assert_eq!(
        dynamo::holder_field(&item, "ci_url"),
        "https://github.com/acme/infra/actions/runs/99"
    );
    let command = dynamo::holder_field(&item, "command");
    assert!(command.starts_with("sh -c"), "{command}");
    assert!(command.contains("-var db_password=<redacted>"), "{command}");
    let everything = format!("{item:?}");
    for secret in ["hunter2", "s3cr3t", "do-not-store"] {
        assert!(
            !everything.contains(secret),
            "{secret} stored: {everything}"
        );
    }
    signal(&holder, nix::sys::signal::Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
}

#[test]
fn the_heartbeat_renews_the_lease() {
    let f = Fixture::new();
    let log = f.path("child.log");
    let holder = spawn(
        f.tflock("beat")
            .args(["--lease", "2s", "run"])
            .args(f.sigchild(&log, &["--sleep", "30"])),
    );
    wait_child_ready("the child to start", &log);
    let mut rvns = std::collections::BTreeSet::new();
    wait_until("three renewals", Duration::from_secs(20), || {
        if let Some(item) = f.lease_item("beat") {
            rvns.insert(dynamo::s(&item, "rvn"));
        }
        rvns.len() >= 4
    });
    let item = f.lease_item("beat").unwrap();
    assert_eq!(dynamo::s(&item, "state"), "held");
    assert_eq!(dynamo::holder_field(&item, "lease_ms"), "2000");
    signal(&holder, nix::sys::signal::Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
    assert_eq!(f.lease_state("beat").as_deref(), Some("released"));
}

#[test]
fn status_reports_the_holder_in_text_and_json() {
    let f = Fixture::new();
    let out = output(f.tflock("st").args(["status", "--output", "json"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["held"], false);

    let log = f.path("child.log");
    let holder = spawn(
        f.tflock("st")
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "30"])),
    );
    wait_child_ready("the child to start", &log);
    let out = output(f.tflock("st").args(["status", "--output", "json"]));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    for field in [
        "lock_key",
        "table",
        "held",
        "owner",
        "token",
        "fence",
        "pid",
        "operation",
        "acquired_at",
        "expires_at",
        "lease_seconds",
        "rvn",
        "terraform_lock",
        "stale_hint",
    ] {
        assert!(v.get(field).is_some(), "status JSON lacks {field}: {v}");
    }
    assert_eq!(v["held"], true);
    assert_eq!(v["lock_key"], "st");
    assert_eq!(v["table"], f.table.as_str());
    assert_eq!(v["pid"], holder.id());
    assert_eq!(v["fence"], 1);
    assert_eq!(v["lease_seconds"], 30.0);
    assert_eq!(v["stale_hint"], false);
    assert_eq!(v["terraform_lock"], serde_json::Value::Null);
    chrono::DateTime::parse_from_rfc3339(v["acquired_at"].as_str().unwrap()).unwrap();
    chrono::DateTime::parse_from_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();

    let text = stdout(&output(f.tflock("st").arg("status")));
    assert!(
        text.contains("held by") && text.contains("run: python"),
        "{text}"
    );

    signal(&holder, nix::sys::signal::Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
    let v: serde_json::Value = serde_json::from_str(&stdout(&output(
        f.tflock("st").args(["status", "--output", "json"]),
    )))
    .unwrap();
    assert_eq!(v["held"], false);
    assert_eq!(v["fence"], 1, "the fence is kept after release");
}

#[test]
fn ctrl_c_while_waiting_exits_130_and_leaves_nothing_behind() {
    let f = Fixture::new();
    let log = f.path("holder.log");
    let holder = spawn(
        f.tflock("intr")
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "30"])),
    );
    wait_child_ready("the holder's child to start", &log);
    let before = f.lease_item("intr").unwrap();

    let waiter_err = f.path("waiter.err");
    let mut cmd = f.tflock("intr");
    cmd.args(["--lock-timeout", "5m", "run", "--", "true"])
        .stderr(std::fs::File::create(&waiter_err).unwrap());
    let waiter = cmd.spawn().unwrap();
    wait_until("the waiter to wait", Duration::from_secs(20), || {
        std::fs::read_to_string(&waiter_err)
            .unwrap_or_default()
            .contains("waiting")
    });
    let sent = Instant::now();
    signal(&waiter, nix::sys::signal::Signal::SIGINT);
    let out = finish(waiter, Duration::from_secs(10));
    assert_eq!(code(&out), 130);
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "ends at once: {:?}",
        sent.elapsed()
    );
    let err = std::fs::read_to_string(&waiter_err).unwrap();
    assert!(err.contains("interrupted"), "{err}");
    let events = f.history("intr");
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "wait" && e["outcome"] == "interrupted (SIGINT)"),
        "the abandoned wait is in the history: {events:?}"
    );

    let after = f.lease_item("intr").unwrap();
    assert_eq!(
        dynamo::s(&after, "owner_token"),
        dynamo::s(&before, "owner_token"),
        "holder untouched"
    );
    assert_eq!(f.lease_items().len(), 1, "no item of the waiter's");
    signal(&holder, nix::sys::signal::Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
}

#[test]
fn a_nested_tflock_on_the_same_lock_does_not_wait_on_itself() {
    let f = Fixture::new();
    let out = output(f.tflock("nest").args([
        "run",
        "--",
        crate::support::TFLOCK,
        "run",
        "--",
        "sh",
        "-c",
        "exit 4",
    ]));
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    assert_eq!(
        f.lease_item("nest")
            .map(|i| dynamo::s(&i, "fence"))
            .as_deref(),
        Some("1"),
        "taken once"
    );
}

#[test]
fn an_environment_that_outlived_its_tflock_does_not_skip_the_lock() {
    // TFLOCK_TOKEN and TFLOCK_LOCK_KEY left in a shell (a tmux server
    // started under `tflock run -- $SHELL`) after that tflock ended, while
    // someone else holds the lock: the run must wait, not run unlocked.
    let f = Fixture::new();
    let log = f.path("holder.log");
    let holder = spawn(
        f.tflock("outlived")
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "30"])),
    );
    wait_child_ready("the holder's child", &log);
    let stale = |f: &Fixture| {
        let mut cmd = f.tflock("outlived");
        cmd.env("TFLOCK_TOKEN", "a-lease-long-gone");
        cmd
    };
    let out = output(stale(&f).args(["--lock-timeout", "1s", "run", "--", "true"]));
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(stderr(&out).contains("no longer held"), "{}", stderr(&out));
    signal(&holder, nix::sys::signal::Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
    // Free: it takes the lock as any run does.
    let out = output(stale(&f).args(["run", "--", "true"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        f.lease_item("outlived")
            .map(|i| dynamo::s(&i, "fence"))
            .as_deref(),
        Some("2")
    );
}

#[test]
fn read_only_terraform_commands_pass_straight_through() {
    let f = Fixture::new();
    let fake = f.path("fake-terraform");
    let calls = f.path("calls");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\necho \"$@\" >> {}\nexit 5\n", calls.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    for args in [
        &["version", "-json"][..],
        &["output", "-raw", "x y"],
        &["plan", "-lock=false"],
        &["apply", "-help"],
        &["state", "list"],
    ] {
        let out = output(
            f.tflock("pass")
                .arg("--terraform-bin")
                .arg(&fake)
                .args(args),
        );
        assert_eq!(
            code(&out),
            5,
            "{args:?}: exit code passes through; {}",
            stderr(&out)
        );
    }
    let calls = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(
        calls,
        "version -json\noutput -raw x y\nplan -lock=false\napply -help\nstate list\n"
    );
    assert!(f.dynamo.scan(&f.table).is_empty(), "no lock taken");

    // A state-writing command does take the lease, and gets its arguments untouched.
    let out = output(
        f.tflock("pass")
            .arg("--terraform-bin")
            .arg(&fake)
            .args(["apply", "-var", "a=b c", "--", "-x"]),
    );
    assert_eq!(code(&out), 5);
    assert_eq!(f.lease_state("pass").as_deref(), Some("released"));
}

#[test]
fn concurrent_first_acquires_admit_exactly_one() {
    let f = Fixture::new();
    let runs: Vec<_> = (0..8)
        .map(|_| spawn(f.tflock("race").args(["run", "--", "sleep", "3"])))
        .collect();
    let codes: Vec<i32> = runs
        .into_iter()
        .map(|r| code(&finish(r, Duration::from_secs(30))))
        .collect();
    assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|&&c| c == 75).count(), 7, "{codes:?}");
    assert_eq!(dynamo::s(&f.lease_item("race").unwrap(), "fence"), "1");
}
