//! First come, first served (issue #6): waiters acquire in the order they
//! joined the line, and one that gives up or dies is skipped.

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::*;

/// How many waiters are in line for `key` now.
fn in_line(f: &Fixture, key: &str) -> usize {
    f.lease_item(key)
        .map(|item| item.keys().filter(|k| k.starts_with("wait_")).count())
        .unwrap_or(0)
}

/// The order in which runs logged themselves.
fn order(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn sixteen_waiters_acquire_in_arrival_order() {
    let f = Fixture::new();
    let log = f.path("order.log");
    let holder_log = f.path("holder.log");
    let holder = spawn(
        f.tflock("fifo")
            .arg("run")
            .args(f.sigchild(&holder_log, &["--sleep", "60"])),
    );
    wait_child_ready("the holder's child", &holder_log);
    let mut waiters = Vec::new();
    for i in 0..16 {
        let script = format!("echo {i} >> {}; sleep 0.1", log.display());
        waiters.push(spawn(f.tflock("fifo").args([
            "--lock-timeout",
            "2m",
            "run",
            "--",
            "sh",
            "-c",
            &script,
        ])));
        // Each joins the line before the next arrives.
        wait_until(
            &format!("waiter {i} in line"),
            Duration::from_secs(20),
            || in_line(&f, "fifo") == i + 1,
        );
    }
    let status: serde_json::Value = serde_json::from_str(&stdout(&output(
        f.tflock("fifo").args(["status", "--output", "json"]),
    )))
    .unwrap();
    let queue = status["queue"].as_array().unwrap();
    assert_eq!(queue.len(), 16, "status shows the line: {status}");
    assert!(
        queue
            .windows(2)
            .all(|w| w[0]["ticket"].as_u64() < w[1]["ticket"].as_u64())
    );
    signal(&holder, Signal::SIGTERM);
    assert_eq!(code(&finish(holder, Duration::from_secs(30))), 143);
    for w in waiters {
        let out = finish(w, Duration::from_secs(120));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let expected: Vec<String> = (0..16).map(|i| i.to_string()).collect();
    assert_eq!(order(&log), expected, "first come, first served");
    assert_eq!(in_line(&f, "fifo"), 0, "the line is empty again");
    // A newcomer now takes the fast path.
    assert_eq!(
        code(&output(f.tflock("fifo").args(["run", "--", "true"]))),
        0
    );
}

#[test]
fn waiters_who_give_up_or_die_are_skipped() {
    let f = Fixture::new();
    let log = f.path("order.log");
    let holder_log = f.path("holder.log");
    let holder = spawn(
        f.tflock("skip")
            .arg("run")
            .args(f.sigchild(&holder_log, &["--sleep", "60"])),
    );
    wait_child_ready("the holder's child", &holder_log);
    let waiter = |name: &str| {
        let script = format!("echo {name} >> {}", log.display());
        spawn(f.tflock("skip").args([
            "--lease",
            "2s",
            "--lock-timeout",
            "1m",
            "run",
            "--",
            "sh",
            "-c",
            &script,
        ]))
    };
    let gives_up = waiter("gives-up");
    wait_until("the first waiter in line", Duration::from_secs(20), || {
        in_line(&f, "skip") == 1
    });
    let mut dies = waiter("dies");
    wait_until("the second waiter in line", Duration::from_secs(20), || {
        in_line(&f, "skip") == 2
    });
    let last = waiter("last");
    wait_until("the third waiter in line", Duration::from_secs(20), || {
        in_line(&f, "skip") == 3
    });

    signal(&gives_up, Signal::SIGINT);
    assert_eq!(code(&finish(gives_up, Duration::from_secs(20))), 130);
    assert_eq!(in_line(&f, "skip"), 2, "giving up leaves the line");
    dies.kill().unwrap();
    let _ = dies.wait();
    signal(&holder, Signal::SIGTERM);
    assert_eq!(code(&finish(holder, Duration::from_secs(30))), 143);

    let out = finish(last, Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        order(&log),
        ["last"],
        "neither the quitter nor the dead held it"
    );
    assert_eq!(in_line(&f, "skip"), 0, "the dead waiter was removed");
    assert!(
        stderr(&out).contains("removed a waiter"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_ticket_given_up_does_not_block_a_run_that_does_not_wait() {
    // The only waiter gives up (Ctrl-C) and the holder releases: its ticket
    // is still ahead of the line's turn, and nobody is left to move the turn
    // past it. A run that does not wait must pass it and take the lock,
    // not be refused with "held by nobody".
    let f = Fixture::new();
    let holder_log = f.path("holder.log");
    let holder = spawn(
        f.tflock("gone")
            .arg("run")
            .args(f.sigchild(&holder_log, &["--sleep", "60"])),
    );
    wait_child_ready("the holder's child", &holder_log);
    let waiter = spawn(
        f.tflock("gone")
            .args(["--lock-timeout", "1m", "run", "--", "true"]),
    );
    wait_until("the waiter in line", Duration::from_secs(20), || {
        in_line(&f, "gone") == 1
    });
    signal(&waiter, Signal::SIGINT);
    assert_eq!(code(&finish(waiter, Duration::from_secs(20))), 130);
    signal(&holder, Signal::SIGTERM);
    assert_eq!(code(&finish(holder, Duration::from_secs(30))), 143);

    let out = output(f.tflock("gone").args(["run", "--", "true"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = output(f.tflock("gone").args(["run", "--", "true"]));
    assert_eq!(code(&out), 0, "and again: {}", stderr(&out));
}

#[test]
fn a_long_line_of_given_up_tickets_is_passed_in_steps_the_service_accepts() {
    // A lock held for hours while CI jobs queue and give up, one ticket
    // each: the turn must then pass 130 tickets nobody holds. One condition
    // naming them all is over DynamoDB's 4 KB expression limit (which the
    // test emulator enforces): refused, every run after it refused too.
    use aws_sdk_dynamodb::types::AttributeValue;
    let f = Fixture::new();
    let out = output(f.tflock("long").args(["run", "--", "true"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let mut item = f.lease_item("long").unwrap();
    item.insert("serving".into(), AttributeValue::N("7".into()));
    item.insert("next_ticket".into(), AttributeValue::N("137".into()));
    f.dynamo.put(&f.table, item);

    let out = output(f.tflock("long").args(["-v", "run", "--", "true"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let item = f.lease_item("long").unwrap();
    assert_eq!(
        item.get("serving")
            .and_then(|v| v.as_n().ok())
            .map(String::as_str),
        Some("137"),
        "the turn passed every given-up ticket"
    );
    let out = output(f.tflock("long").args(["run", "--", "true"]));
    assert_eq!(code(&out), 0, "and again: {}", stderr(&out));
}
