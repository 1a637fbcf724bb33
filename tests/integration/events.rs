//! tflock's own output where users' tools read it: JSON events on stderr
//! that follow docs/events.schema.json and never touch the child's stdout;
//! colour and GitHub Actions workflow commands in text output.

use std::time::Duration;

use serde_json::Value;

use crate::support::proxy::{Mode, Proxy};
use crate::support::schema::{events, schema};
use crate::support::*;

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

/// A holder killed with everything it started: its lease stays, stale.
fn dead_holder(f: &Fixture, key: &str) {
    let log = f.path(&format!("{key}.log"));
    let mut holder = spawn(
        f.tflock(key)
            .args(["--lease", "2s", "run"])
            .args(f.sigchild(&log, &["--sleep", "60"])),
    );
    wait_child_ready("the holder's child", &log);
    kill_everything(&mut holder);
}

#[test]
fn json_events_follow_the_schema_and_never_touch_stdout() {
    let f = Fixture::new();
    let schema = schema();
    let mut seen = Vec::new();

    // A holder, and a waiter whose command prints: waiting, acquired,
    // released on stderr; on stdout, exactly what the command printed.
    let log = f.path("holder.log");
    let holder = spawn(
        f.tflock("handoff")
            .args(["--output", "json", "--lease", "2s", "run"])
            .args(f.sigchild(&log, &["--sleep", "2"])),
    );
    wait_child_ready("the holder's child", &log);
    let waiter = output(f.tflock("handoff").args([
        "--output",
        "json",
        "--lock-timeout",
        "30s",
        "run",
        "--",
        "echo",
        "hello",
    ]));
    assert_eq!(code(&waiter), 0, "{}", stderr(&waiter));
    assert_eq!(stdout(&waiter), "hello\n", "the child's stdout, untouched");
    let waiter_events = events(&waiter, &schema);
    assert_eq!(
        kinds(&waiter_events),
        ["waiting", "acquired", "released"],
        "{}",
        stderr(&waiter)
    );
    let holder = finish(holder, Duration::from_secs(30));
    let holder_events = events(&holder, &schema);
    assert_eq!(kinds(&holder_events), ["acquired", "released"]);
    // The waiter saw the holder's holding; each names its own fence.
    let fence = |evs: &[Value], kind: &str| {
        evs.iter().find(|e| e["event"] == kind).unwrap()["fence"].clone()
    };
    assert_eq!(
        fence(&waiter_events, "waiting"),
        fence(&holder_events, "acquired")
    );
    assert_eq!(
        fence(&waiter_events, "acquired").as_u64().unwrap(),
        fence(&holder_events, "acquired").as_u64().unwrap() + 1
    );
    seen.extend(waiter_events);
    seen.extend(holder_events);

    // A dead holder taken over by a waiter (taken_over, and a warning).
    dead_holder(&f, "takeover");
    let out = output(f.tflock("takeover").args([
        "--output",
        "json",
        "--lock-timeout",
        "30s",
        "--takeover-stale",
        "run",
        "--",
        "true",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    seen.extend(events(&out, &schema));

    // A dead holder removed by force-unlock --verify: force_unlocked on
    // stderr, the result object on stdout.
    dead_holder(&f, "forced");
    let out = output(
        f.tflock("forced")
            .args(["--output", "json", "force-unlock", "--verify"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let result: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(result["result"], "unlocked");
    let forced = events(&out, &schema);
    let unlocked = forced
        .iter()
        .find(|e| e["event"] == "force_unlocked")
        .expect("a force_unlocked event");
    assert_eq!(unlocked["verified"], true);
    seen.extend(forced);

    // An error: its exit code in the event.
    let out =
        output(
            f.tflock("missing")
                .args(["--output", "json", "run", "--", "/nonexistent/command"]),
        );
    assert_eq!(code(&out), 127);
    let errors = events(&out, &schema);
    assert_eq!(errors.last().unwrap()["code"], 127);
    seen.extend(errors);

    // Renewals refused until the lease is lost (a lease long enough for a
    // failed renewal to be retried before the holder must fence).
    let mut behind = Fixture::new();
    let proxy = Proxy::start(behind.moto.port);
    behind.endpoint = proxy.endpoint();
    let log = behind.path("lost.log");
    let run = spawn(
        behind
            .tflock("lost")
            .args([
                "--output",
                "json",
                "--lease",
                "6s",
                "--heartbeat",
                "1s",
                "run",
            ])
            .args(behind.sigchild(&log, &["--sleep", "30"])),
    );
    wait_child_ready("the child", &log);
    proxy.set(Mode::Refuse);
    let out = finish(run, Duration::from_secs(60));
    assert_eq!(code(&out), 77, "{}", stderr(&out));
    let lost = events(&out, &schema);
    assert!(
        kinds(&lost).contains(&"lease_lost".to_string()),
        "{}",
        stderr(&out)
    );
    seen.extend(lost);

    let mut all = kinds(&seen);
    all.sort();
    all.dedup();
    assert_eq!(
        all,
        [
            "acquired",
            "error",
            "force_unlocked",
            "heartbeat_failed",
            "lease_lost",
            "released",
            "taken_over",
            "waiting",
            "warning"
        ],
        "every event of the schema was produced and checked"
    );
}

#[test]
fn github_actions_gets_a_log_group_around_a_wait_and_annotations() {
    let f = Fixture::new();
    let log = f.path("holder.log");
    let holder = spawn(
        f.tflock("gha")
            .args(["run"])
            .args(f.sigchild(&log, &["--sleep", "3"])),
    );
    wait_child_ready("the holder's child", &log);
    let out = output(f.tflock("gha").env("GITHUB_ACTIONS", "true").args([
        "--lock-timeout",
        "1s",
        "run",
        "--",
        "true",
    ]));
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    let group = lines
        .iter()
        .position(|l| l.starts_with("::group::tflock: waiting for lock gha"))
        .unwrap_or_else(|| panic!("no group in:\n{err}"));
    let end = lines
        .iter()
        .position(|l| *l == "::endgroup::")
        .unwrap_or_else(|| panic!("no endgroup in:\n{err}"));
    let error = lines
        .iter()
        .position(|l| l.starts_with("::error title=tflock::"))
        .unwrap_or_else(|| panic!("no error annotation in:\n{err}"));
    assert!(group < end && end < error, "{err}");
    finish(holder, Duration::from_secs(30));

    // Without GITHUB_ACTIONS, no workflow commands.
    let out = output(f.tflock("gha").args(["run", "--", "/nonexistent/command"]));
    assert!(!stderr(&out).contains("::"), "{}", stderr(&out));
}

#[test]
fn colour_follows_no_color_and_clicolor_force() {
    let f = Fixture::new();
    let run = |env: &[(&str, &str)]| {
        let mut cmd = f.tflock("colour");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = output(cmd.args(["run", "--", "/nonexistent/command"]));
        assert_eq!(code(&out), 127);
        stderr(&out)
    };
    // Not a terminal: plain.
    assert!(!run(&[]).contains('\x1b'));
    // Forced on.
    let forced = run(&[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains("\x1b[1;31merror:\x1b[0m"), "{forced:?}");
    // NO_COLOR wins.
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
    assert!(!run(&[("CLICOLOR_FORCE", "0")]).contains('\x1b'));
}
