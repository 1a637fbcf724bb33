//! Recovering stuck locks (DESIGN §6, issue #3): force-unlock --verify, the
//! unguarded path, and --takeover-stale, against live and dead holders.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::support::*;

/// A tflock holding `key` with `options` (`--lease 2s`), its command (the child that
/// records the signals it gets) started; and that child's log.
fn live_holder(
    f: &Fixture,
    key: &str,
    options: &[&str],
) -> (std::process::Child, std::path::PathBuf) {
    let log = f.path(&format!("{key}.log"));
    let holder = spawn(
        f.tflock(key)
            .args(options)
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "60"])),
    );
    wait_child_ready("the holder's child", &log);
    (holder, log)
}

/// Waits for the holder's first renewal, which records its command as a
/// process.
fn first_renewal(f: &Fixture, key: &str) {
    wait_until("the first renewal", Duration::from_secs(10), || {
        f.lease_item(key)
            .and_then(|i| dynamo::m(&i, "lease").cloned())
            .is_some_and(|l| l.contains_key("command_process"))
    });
}

fn force_unlock(f: &Fixture, key: &str, args: &[&str]) -> std::process::Output {
    output(f.tflock(key).arg("force-unlock").args(args))
}

#[test]
fn a_lost_ci_runner_is_recovered_with_verify_and_the_next_apply_runs() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let key = f.terraform_lock_id();
    let mut run = spawn(f.tflock_in(&dir).args([
        "--lease",
        "3s",
        "apply",
        "-auto-approve",
        "-no-color",
        "-var",
        "sleep_seconds=60",
    ]));
    wait_until(
        "the lease to record terraform's own lock",
        Duration::from_secs(30),
        || {
            f.lease_item(&key)
                .is_some_and(|i| dynamo::has(&i, "terraform_lock_id"))
        },
    );
    kill_everything(&mut run);
    assert!(
        f.dynamo.get(&f.table, &key).is_some(),
        "terraform's lock is left behind"
    );
    assert_eq!(
        f.lease_state(&key).as_deref(),
        Some("held"),
        "so is the lease"
    );

    // A plain apply cannot run now.
    let out = output(
        f.tflock_in(&dir)
            .args(["apply", "-auto-approve", "-no-color"]),
    );
    assert_eq!(code(&out), 75, "{}", stderr(&out));

    let start = Instant::now();
    let out =
        output(
            f.tflock_in(&dir)
                .args(["force-unlock", "--verify", "--reason", "runner lost"]),
        );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        start.elapsed() >= Duration::from_secs(4),
        "observed a full lease (3s) and the margin (1s) first"
    );
    let said = stdout(&out);
    assert!(
        said.contains("unlocked") && said.contains("terraform lock"),
        "{said}"
    );
    assert!(
        f.dynamo.get(&f.table, &key).is_none(),
        "terraform's own lock removed"
    );
    assert_eq!(f.lease_state(&key).as_deref(), Some("released"));

    let audit = f
        .records(&key, "force_unlock")
        .into_iter()
        .next()
        .expect("audit record");
    assert_eq!(audit["outcome"], "verified");
    assert_eq!(audit["reason"], "runner lost");
    assert!(audit["observed_ms"].as_u64().unwrap() >= 4000);
    assert_eq!(audit["removed"].as_array().unwrap().len(), 2, "{audit}");
    // status says who released it, not being its holder.
    let v: serde_json::Value = serde_json::from_str(&stdout(&output(
        f.tflock_in(&dir).args(["status", "--output", "json"]),
    )))
    .unwrap();
    assert_eq!(
        (&v["held"], &v["locked"]),
        (&false.into(), &false.into()),
        "{v}"
    );
    assert!(
        v["released_by"].as_str().is_some_and(|by| !by.is_empty()),
        "{v}"
    );
    assert!(
        stdout(&output(f.tflock_in(&dir).arg("status"))).contains("not its holder"),
        "the text says it too"
    );

    let out = output(
        f.tflock_in(&dir)
            .args(["apply", "-auto-approve", "-no-color"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn a_live_holder_on_this_host_is_refused_at_once() {
    let f = Fixture::new();
    let (holder, log) = live_holder(&f, "live", &["--lease", "2s"]);
    let out = force_unlock(&f, "live", &["--verify"]);
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("still running on this host"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        f.lease_state("live").as_deref(),
        Some("held"),
        "still holding"
    );
    assert!(signals_received(&log).is_empty());
    signal(&holder, Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
}

#[test]
fn a_holder_whose_processes_are_hidden_is_not_declared_dead() {
    // A stopped tflock (hung, or suspended) renews nothing while its
    // command runs on: on its host that is proof of life, but only to whom
    // can see its processes. `nobody` on a /proc with hidepid sees none of
    // root's: it must say it cannot tell, not observe a lease and remove it.
    let f = Fixture::new();
    let (holder, log) = live_holder(&f, "hidden", &["--lease", "2s"]);
    first_renewal(&f, "hidden");
    signal(&holder, Signal::SIGSTOP);

    let out = output(
        f.tflock_as_nobody_under_hidepid("hidden")
            .args(["force-unlock", "--verify"]),
    );
    assert_eq!(code(&out), 76, "{}{}", stdout(&out), stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains("cannot tell whether its tflock") && said.contains("hidepid"),
        "{said}"
    );
    assert_eq!(f.lease_state("hidden").as_deref(), Some("held"));
    assert!(signals_received(&log).is_empty());

    // Nor does a --takeover-stale waiter take it over; it says why once.
    let out = output(f.tflock_as_nobody_under_hidepid("hidden").args([
        "--takeover-stale",
        "--lock-timeout",
        "5s",
        "run",
        "--",
        "true",
    ]));
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    let said = stderr(&out);
    assert_eq!(
        said.matches("not taking over").count(),
        1,
        "warned once: {said}"
    );
    assert!(said.contains("cannot tell whether its tflock"), "{said}");
    assert_eq!(f.lease_state("hidden").as_deref(), Some("held"));
    assert!(signals_received(&log).is_empty());

    // Root sees them: proof of life, as ever.
    let out = force_unlock(&f, "hidden", &["--verify"]);
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert!(stderr(&out).contains("still running on this host"));

    signal(&holder, Signal::SIGCONT);
    signal(&holder, Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
}

#[test]
fn the_first_renewal_records_the_command_as_a_process() {
    // Its pid and start time: proof of life on the holder's machine that
    // any user can check (the command's environment, with its token, is
    // readable only by its own user and root).
    let f = Fixture::new();
    let (holder, log) = live_holder(&f, "recorded", &["--lease", "3s"]);
    let child: String = child_log(&log)
        .iter()
        .find(|(e, _, _)| e == "ready")
        .and_then(|(_, d, _)| d.split_whitespace().next().map(str::to_string))
        .unwrap();
    first_renewal(&f, "recorded");
    let lease = dynamo::m(&f.lease_item("recorded").unwrap(), "lease")
        .cloned()
        .unwrap();
    let recorded = dynamo::s(&lease, "command_process");
    let fields: Vec<&str> = recorded.split(' ').collect();
    assert_eq!(
        fields.len(),
        4,
        "pid, boot, pid namespace, start: {recorded}"
    );
    assert_eq!(fields[0], child, "{recorded}");
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    assert_eq!(fields[1], boot.trim(), "{recorded}");
    let namespace = std::fs::read_link(format!("/proc/{child}/ns/pid")).unwrap();
    assert_eq!(fields[2], namespace.to_string_lossy(), "{recorded}");
    let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap();
    let start = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap();
    assert_eq!(fields[3], start, "its start time: {recorded}");
    signal(&holder, Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
}

#[test]
fn a_heartbeat_during_observation_refuses_even_with_a_skewed_clock() {
    let f = Fixture::new();
    let log = f.path("child.log");
    // Another host, whose wall clock is 10 minutes behind: its expiry looks
    // long past, yet it is alive and renewing.
    let mut cmd = f.tflock_elsewhere("skewed", "far-away-host", Some("-10m"));
    let holder = spawn(
        cmd.args(["--lease", "2s", "run"])
            .args(f.sigchild(&log, &["--sleep", "30"])),
    );
    wait_child_ready("the holder's child", &log);
    let status: serde_json::Value = serde_json::from_str(&stdout(&output(
        f.tflock("skewed").args(["status", "--output", "json"]),
    )))
    .unwrap();
    assert_eq!(
        status["stale_hint"], true,
        "the wall-clock expiry is long past: {status}"
    );

    let out = force_unlock(&f, "skewed", &["--verify"]);
    assert_eq!(code(&out), 76, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("heartbeat landed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(f.lease_state("skewed").as_deref(), Some("held"));
    assert!(
        signals_received(&log).is_empty(),
        "the holder ran on undisturbed"
    );
    // faketime does not pass signals on: signal tflock itself.
    let pid: i32 = dynamo::holder_field(&f.lease_item("skewed").unwrap(), "pid")
        .parse()
        .unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    let out = finish(holder, Duration::from_secs(20));
    assert_eq!(code(&out), 143, "{}", stderr(&out));
}

#[test]
fn plain_terraform_locks_are_refused_with_advice() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let mut cmd = std::process::Command::new("terraform");
    f.scrub(&mut cmd);
    let run = spawn(cmd.current_dir(&dir).args([
        "apply",
        "-auto-approve",
        "-no-color",
        "-var",
        "sleep_seconds=30",
    ]));
    let key = f.terraform_lock_id();
    wait_until("terraform's own lock", Duration::from_secs(30), || {
        f.dynamo.get(&f.table, &key).is_some()
    });
    let out = output(f.tflock_in(&dir).args(["force-unlock", "--verify"]));
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no tflock lease beside it"),
        "{}",
        stderr(&out)
    );
    assert!(f.dynamo.get(&f.table, &key).is_some(), "left alone");
    signal(&run, Signal::SIGINT);
    finish(run, Duration::from_secs(60));
}

#[test]
fn the_unguarded_path_needs_the_exact_id_and_a_confirmation() {
    let f = Fixture::new();
    let log = f.path("child.log");
    let mut cmd = f.tflock_elsewhere("manual", "gone-host", None);
    let mut holder = spawn(cmd.args(["run"]).args(f.sigchild(&log, &["--sleep", "60"])));
    wait_child_ready("the holder's child", &log);
    kill_everything(&mut holder);
    let token = dynamo::s(&f.lease_item("manual").unwrap(), "owner_token");

    let out = force_unlock(&f, "manual", &["not-the-token", "--yes"]);
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("the lease's token is {token}")),
        "{}",
        stderr(&out)
    );
    let out = force_unlock(&f, "manual", &[&token]);
    assert_eq!(code(&out), 64, "no terminal, no --yes: {}", stderr(&out));
    assert_eq!(f.lease_state("manual").as_deref(), Some("held"));

    let out = force_unlock(
        &f,
        "manual",
        &[&token, "--yes", "--reason", "checked by hand"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(f.lease_state("manual").as_deref(), Some("released"));
    let audit = f
        .records("manual", "force_unlock")
        .into_iter()
        .next()
        .expect("audit");
    assert_eq!(audit["outcome"], "unguarded");
    assert_eq!(audit["reason"], "checked by hand");
    // The fence survives: the next holder gets the next one.
    let out =
        output(
            f.tflock("manual")
                .args(["run", "--", "sh", "-c", "test \"$TFLOCK_FENCE\" = 2"]),
        );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn a_holder_whose_lease_was_forced_does_not_release_it_again() {
    // An operator forces a live holder's lease by its token. The holder
    // finds out, stops its command, and must not then release the lease
    // as its own: that would erase who forced it from the item.
    let f = Fixture::new();
    let (holder, _log) = live_holder(&f, "forced", &["--lease", "3s", "--heartbeat", "1s"]);
    let token = dynamo::s(&f.lease_item("forced").unwrap(), "owner_token");
    let out = force_unlock(&f, "forced", &[&token, "--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = finish(holder, Duration::from_secs(30));
    assert_eq!(code(&out), 77, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no longer ours to release"),
        "{}",
        stderr(&out)
    );
    let released = dynamo::m(&f.lease_item("forced").unwrap(), "released")
        .cloned()
        .unwrap_or_default();
    assert!(
        released.contains_key("by"),
        "still says who forced it: {released:?}"
    );
}

#[test]
fn a_lease_lost_before_the_heartbeat_noticed_still_exits_77() {
    // Forced between two renewals, and the command ends before the next:
    // the release finds the lease no longer ours. The command ran past its
    // lease, and the exit code and the run's record say so.
    let f = Fixture::new();
    let (holder, log) = live_holder(&f, "unnoticed", &["--lease", "60s"]);
    let token = dynamo::s(&f.lease_item("unnoticed").unwrap(), "owner_token");
    let out = force_unlock(&f, "unnoticed", &[&token, "--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    signal(&holder, Signal::SIGTERM);
    let out = finish(holder, Duration::from_secs(30));
    assert_eq!(
        signals_received(&log),
        ["SIGTERM"],
        "no lease loss seen meanwhile"
    );
    assert_eq!(code(&out), 77, "{}", stderr(&out));
    let run = f
        .records("unnoticed", "run")
        .into_iter()
        .last()
        .expect("the run's record");
    assert_eq!(run["outcome"], "lease_lost", "{run}");
}

#[test]
fn a_release_whose_answer_was_lost_is_ours_even_once_the_next_holder_has_the_lock() {
    // The release lands, its answer is lost; the first in line takes the
    // lock before the SDK sends the release again, which is then refused.
    // The run's record in its slot shows the release was ours: the run
    // ends with its command's code and one record, not as a lost lease.
    let f = Fixture::new();
    let proxy = crate::support::proxy::Proxy::start(f.moto.port);
    let holder_log = f.path("holder.log");
    let holder = spawn(
        f.tflock("handed")
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .arg("run")
            .args(f.sigchild(&holder_log, &["--sleep", "3"])),
    );
    wait_child_ready("the holder's child", &holder_log);
    let waiter = spawn(
        f.tflock("handed")
            .args(["--lock-timeout", "30s", "run", "--", "true"]),
    );
    wait_until("the waiter in line", Duration::from_secs(20), || {
        f.lease_item("handed")
            .is_some_and(|i| i.keys().any(|k| k.starts_with("wait_")))
    });
    // `:released_map`: only a release carries it.
    proxy.drop_answer_to_next(":released_map");
    let out = finish(holder, Duration::from_secs(30));
    assert_eq!(
        proxy.failed_connections(),
        1,
        "the release's answer was lost"
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(code(&finish(waiter, Duration::from_secs(30))), 0);
    let runs: Vec<_> = f
        .history("handed")
        .into_iter()
        .filter(|e| e["kind"] == "run" && e["fence"] == 1)
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["outcome"], "ok");
}

#[test]
fn the_unguarded_path_removes_every_terraform_lock_with_the_id() {
    // With both `dynamodb_table` and `use_lockfile`, terraform writes one
    // lock ID to its DynamoDB item and to its S3 lockfile: the ID names
    // both, and removing one only leaves the state locked.
    let f = Fixture::new();
    let dir = dir_locking_twice(&f);
    let key = f.terraform_lock_id();
    let lockfile = plant_both_terraform_locks(&f, &key, "bob@laptop", "both-places");

    let out = output(
        f.tflock_in(&dir)
            .args(["force-unlock", "both-places", "--yes"]),
    );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(f.dynamo.get(&f.table, &key).is_none(), "{}", stdout(&out));
    assert_eq!(
        moto::s3(f.moto.port, "GET", &lockfile, b"").0,
        404,
        "{}",
        stdout(&out)
    );
    let audit = f
        .records(&key, "force_unlock")
        .into_iter()
        .next()
        .expect("audit");
    assert_eq!(
        audit["removed"].as_array().map(Vec::len),
        Some(2),
        "{audit}"
    );
}

#[test]
fn the_unguarded_path_fails_when_a_lock_with_the_id_stays() {
    // The DynamoDB item goes, the S3 lockfile's delete fails: the state is
    // still locked, so the command must not exit 0 (a script's
    // `force-unlock ID --yes && terraform apply` would run into the lock),
    // and the audit follow-up says what went and what did not.
    let f = Fixture::new();
    let dir = dir_locking_twice(&f);
    let proxy = f.proxied(&dir);
    let key = f.terraform_lock_id();
    let lockfile = plant_both_terraform_locks(&f, &key, "bob@laptop", "both-places");

    // Every attempt of the S3 delete (the SDK retries).
    proxy.fail_requests_containing("DELETE /", 10);
    let out = output(
        f.tflock_in(&dir)
            .args(["force-unlock", "both-places", "--yes"]),
    );
    assert_eq!(code(&out), 69, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("removed terraform lock")
            && stderr(&out).contains("removal not confirmed"),
        "{}",
        stderr(&out)
    );
    assert!(f.dynamo.get(&f.table, &key).is_none());
    assert_eq!(moto::s3(f.moto.port, "GET", &lockfile, b"").0, 200);
    let records = f.records(&key, "force_unlock");
    assert_eq!(
        records.len(),
        2,
        "the record and its follow-up: {records:?}"
    );
    let follow_up = &records[1];
    assert_eq!(
        follow_up["removed"].as_array().map(Vec::len),
        Some(1),
        "{follow_up}"
    );
}

#[test]
fn a_removal_of_terraforms_lock_whose_answer_was_lost_is_done() {
    // The delete lands, its answer is lost, the SDK sends it again and
    // that is refused (DynamoDB's condition) or finds nothing (S3): the
    // lock is not there any more. Gone is what was asked for, not "changed
    // meanwhile" (76) or an error.
    let f = Fixture::new();
    let dir = dir_locking_twice(&f);
    let proxy = f.proxied(&dir);
    let key = f.terraform_lock_id();
    for (n, needle) in ["DynamoDB_20120810.DeleteItem", "DELETE /"]
        .into_iter()
        .enumerate()
    {
        let lockfile = plant_both_terraform_locks(&f, &key, "bob@laptop", "answer-lost");
        proxy.drop_answer_to_next(needle);
        let out = output(
            f.tflock_in(&dir)
                .args(["force-unlock", "answer-lost", "--yes"]),
        );
        assert_eq!(
            proxy.failed_connections(),
            n as u32 + 1,
            "the answer was lost"
        );
        assert_eq!(code(&out), 0, "{needle}: {}{}", stdout(&out), stderr(&out));
        assert!(f.dynamo.get(&f.table, &key).is_none());
        assert_eq!(moto::s3(f.moto.port, "GET", &lockfile, b"").0, 404);
    }
}

#[test]
fn takeover_stale_recovers_a_dead_holder_and_waits_for_a_live_one() {
    let f = Fixture::new();
    // Dead: killed with everything it ran.
    let log = f.path("dead.log");
    let mut cmd = f.tflock_elsewhere("ci", "lost-runner", None);
    let mut dead = spawn(
        cmd.args(["--lease", "2s", "run"])
            .args(f.sigchild(&log, &["--sleep", "60"])),
    );
    wait_child_ready("the first job's child", &log);
    kill_everything(&mut dead);
    let out = output(f.tflock("ci").args([
        "--takeover-stale",
        "--lock-timeout",
        "30s",
        "run",
        "--",
        "true",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("taking it over"), "{}", stderr(&out));
    let takeover = f
        .records("ci", "takeover")
        .into_iter()
        .next()
        .expect("takeover recorded");
    assert_eq!(takeover["previous_fence"], 1);
    assert_eq!(takeover["fence"], 2);
    assert!(
        takeover["observed_ms"].as_u64().unwrap() >= 3000,
        "{takeover}"
    );

    // Live, on another host: never taken over.
    let log = f.path("live.log");
    let mut cmd = f.tflock_elsewhere("ci", "busy-runner", None);
    let live = spawn(
        cmd.args(["--lease", "2s", "run"])
            .args(f.sigchild(&log, &["--sleep", "60"])),
    );
    wait_child_ready("the live job's child", &log);
    let out = output(f.tflock("ci").args([
        "--takeover-stale",
        "--lock-timeout",
        "5s",
        "run",
        "--",
        "true",
    ]));
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(signals_received(&log).is_empty());
    assert_eq!(f.lease_state("ci").as_deref(), Some("held"));
    signal(&live, Signal::SIGTERM);
    finish(live, Duration::from_secs(20));
}

#[test]
fn a_holder_back_from_an_outage_keeps_its_lease_while_its_command_stops() {
    let f = Fixture::new();
    let proxy = crate::support::proxy::Proxy::start(f.moto.port);
    let holder_log = f.path("holder.log");
    // The holder reaches DynamoDB through the proxy; its command ignores
    // SIGINT and goes on for a while, like a terraform finishing its work.
    let mut cmd = f.tflock_elsewhere("outage", "holder-host", None);
    cmd.env("AWS_ENDPOINT_URL", proxy.endpoint());
    let holder = spawn(
        cmd.args(["--lease", "3s", "--heartbeat", "1s", "run"])
            .args(f.sigchild(&holder_log, &["--sleep", "9", "--ignore", "SIGINT"])),
    );
    wait_child_ready("the holder's child", &holder_log);
    let waiter_log = f.path("waiter.log");
    let waiter = spawn(
        f.tflock("outage")
            .args(["--takeover-stale", "--lock-timeout", "60s", "run"])
            .args(f.sigchild(&waiter_log, &[])),
    );
    // Past the holder's fencing point (2s), not long enough for anyone to
    // prove the lease stale (4s) had the holder kept renewing afterwards.
    proxy.set(crate::support::proxy::Mode::Refuse);
    std::thread::sleep(Duration::from_millis(2500));
    proxy.set(crate::support::proxy::Mode::Forward);

    let out = finish(holder, Duration::from_secs(40));
    assert_eq!(
        code(&out),
        77,
        "interrupted for the outage: {}",
        stderr(&out)
    );
    assert_eq!(signals_received(&holder_log), ["SIGINT"]);
    let out = finish(waiter, Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!stderr(&out).contains("taking it over"), "{}", stderr(&out));
    let holder_exit = child_log(&holder_log)
        .into_iter()
        .find(|(e, _, _)| e == "exit")
        .unwrap()
        .2;
    let waiter_start = child_log(&waiter_log)
        .into_iter()
        .find(|(e, _, _)| e == "ready")
        .unwrap()
        .2;
    assert!(waiter_start > holder_exit, "never two commands at once");
}

/// Puts terraform's own lock item for `key`, taken now by `who`.
fn plant_terraform_lock(f: &Fixture, key: &str, who: &str, id: &str) {
    let info = format!(
        r#"{{"ID":"{id}","Operation":"OperationTypeApply","Info":"","Who":"{who}","Version":"1.11.4","Created":"{}","Path":"{key}"}}"#,
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    f.dynamo.put(
        &f.table,
        std::collections::HashMap::from([
            (
                "LockID".to_string(),
                aws_sdk_dynamodb::types::AttributeValue::S(key.to_string()),
            ),
            (
                "Info".to_string(),
                aws_sdk_dynamodb::types::AttributeValue::S(info),
            ),
        ]),
    );
}

/// A terraform directory whose backend locks twice, with the DynamoDB
/// table and an S3 lockfile (terraform writes one lock ID to both).
fn dir_locking_twice(f: &Fixture) -> std::path::PathBuf {
    f.terraform_dir_locking(
        "tf",
        &format!("dynamodb_table = \"{}\"\n    use_lockfile = true", f.table),
    )
}

/// terraform's lock `id` for `key` in both places, taken by `who`; the
/// lockfile's path in S3.
fn plant_both_terraform_locks(f: &Fixture, key: &str, who: &str, id: &str) -> String {
    plant_terraform_lock(f, key, who, id);
    let info = dynamo::s(&f.dynamo.get(&f.table, key).unwrap(), "Info");
    let lockfile = format!("/{key}.tflock");
    assert_eq!(
        moto::s3(f.moto.port, "PUT", &lockfile, info.as_bytes()).0,
        200
    );
    lockfile
}

/// Points the backend `dir` was initialised with at `proxy` (tflock reaches
/// the table and bucket where the backend says: the environment does not
/// override it).
#[test]
fn only_the_dead_holders_terraform_lock_is_removed() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let key = f.terraform_lock_id();
    let dead_lease = |host: &str| {
        let log = f.path(&format!("{host}.log"));
        let mut cmd = f.tflock_elsewhere(&key, host, None);
        let mut run = spawn(
            cmd.current_dir(&dir)
                .args(["--lease", "2s", "run"])
                .args(f.sigchild(&log, &["--sleep", "60"])),
        );
        wait_child_ready("the holder's child", &log);
        kill_everything(&mut run);
        f.lease_item(&key).unwrap()
    };
    let plant = |who: &str, id: &str| plant_terraform_lock(&f, &key, who, id);

    // Someone else's terraform lock: left in place.
    dead_lease("gone-1");
    plant("bob@elsewhere", "not-the-holders");
    let out = output(f.tflock_in(&dir).args(["force-unlock", "--verify"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("is not the dead holder's; left in place"),
        "{}",
        stdout(&out)
    );
    assert!(f.dynamo.get(&f.table, &key).is_some());

    // The holder's own (same user@host, taken during its lease), kept on request.
    let lease = dead_lease("gone-2");
    let holder = dynamo::holder_field(&lease, "who");
    plant(&holder, "the-holders");
    let out = output(
        f.tflock_in(&dir)
            .args(["force-unlock", "--verify", "--keep-terraform-lock"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("kept (--keep-terraform-lock)"),
        "{}",
        stdout(&out)
    );
    assert!(f.dynamo.get(&f.table, &key).is_some());

    // And removed otherwise.
    let lease = dead_lease("gone-3");
    plant(&dynamo::holder_field(&lease, "who"), "the-holders-too");
    let out = output(f.tflock_in(&dir).args(["force-unlock", "--verify"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(f.dynamo.get(&f.table, &key).is_none(), "{}", stdout(&out));
}

#[test]
fn a_force_release_whose_answer_was_lost_still_removes_the_dead_holders_terraform_lock() {
    // The removal of the lease lands, its answer is lost, the SDK sends it
    // again and that is refused: the lease is released already, by us.
    // Read as "its holder released it meanwhile", the run stopped there,
    // leaving the dead holder's terraform lock behind with a wrong story.
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let key = f.terraform_lock_id();
    let proxy = f.proxied(&dir);
    let log = f.path("holder.log");
    let mut cmd = f.tflock_elsewhere(&key, "gone", None);
    let mut run = spawn(
        cmd.current_dir(&dir)
            .args(["--lease", "2s", "run"])
            .args(f.sigchild(&log, &["--sleep", "60"])),
    );
    wait_child_ready("the holder's child", &log);
    kill_everything(&mut run);
    let lease = f.lease_item(&key).unwrap();
    plant_terraform_lock(
        &f,
        &key,
        &dynamo::holder_field(&lease, "who"),
        "the-holders",
    );

    // Someone waiting: once the release lands, the first in line takes the
    // lock, usually before the SDK sends the release again (which is then
    // refused as "changed hands" or "released meanwhile").
    let waiter = spawn(
        f.tflock_in(&dir)
            .args(["--lock-timeout", "60s", "run", "--", "true"]),
    );
    wait_until("the waiter in line", Duration::from_secs(20), || {
        f.lease_item(&key)
            .is_some_and(|i| i.keys().any(|k| k.starts_with("wait_")))
    });
    // `:released_map`: only a release's write carries it.
    proxy.drop_answer_to_next(":released_map");
    let out = output(f.tflock_in(&dir).args(["-v", "force-unlock", "--verify"]));
    assert_eq!(code(&finish(waiter, Duration::from_secs(30))), 0);
    assert_eq!(
        proxy.failed_connections(),
        1,
        "one answer was lost: {}",
        stderr(&out)
    );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("unlocked") && !said.contains("meanwhile"),
        "{said}"
    );
    assert!(
        f.dynamo.get(&f.table, &key).is_none(),
        "the dead holder's terraform lock removed: {said}"
    );
    assert_eq!(f.lease_state(&key).as_deref(), Some("released"));
}

#[test]
fn a_dead_holders_terraform_lock_that_cannot_be_removed_is_not_called_unlocked() {
    // The lease goes, the delete of the dead holder's terraform lock keeps
    // failing: the state is still locked. force-unlock exits 69 and amends
    // its audit record; a takeover goes on with the lock it took and lists
    // terraform's lock among what it kept.
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let key = f.terraform_lock_id();
    let proxy = f.proxied(&dir);
    let dead_holder_with_its_lock = |name: &str| {
        let log = f.path(&format!("{name}.log"));
        let mut cmd = f.tflock_elsewhere(&key, name, None);
        let mut run = spawn(
            cmd.current_dir(&dir)
                .args(["--lease", "2s", "run"])
                .args(f.sigchild(&log, &["--sleep", "60"])),
        );
        wait_child_ready("the holder's child", &log);
        kill_everything(&mut run);
        let lease = f.lease_item(&key).unwrap();
        plant_terraform_lock(&f, &key, &dynamo::holder_field(&lease, "who"), name);
    };
    // Every attempt (the SDK retries), in both phases.
    proxy.fail_requests_containing("DynamoDB_20120810.DeleteItem", 20);

    dead_holder_with_its_lock("gone-1");
    let out = output(
        f.tflock_in(&dir)
            .args(["--output", "json", "force-unlock", "--verify"]),
    );
    assert_eq!(code(&out), 69, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("removal not confirmed"),
        "{}",
        stderr(&out)
    );
    // The result object names what did go.
    let result: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(result["result"], "not_confirmed", "{result}");
    let removed = result["removed"].as_array().unwrap();
    assert!(
        removed.len() == 1 && removed[0].as_str().unwrap().contains("lease"),
        "{result}"
    );
    assert_eq!(f.lease_state(&key).as_deref(), Some("released"));
    assert!(f.dynamo.get(&f.table, &key).is_some(), "still locked");
    let records = f.records(&key, "force_unlock");
    assert_eq!(
        records.len(),
        2,
        "the record and its follow-up: {records:?}"
    );
    assert_eq!(
        records[1]["removed"].as_array().map(Vec::len),
        Some(1),
        "the lease only"
    );

    dead_holder_with_its_lock("gone-2");
    let out = output(f.tflock_in(&dir).args([
        "--takeover-stale",
        "--lock-timeout",
        "30s",
        "run",
        "--",
        "true",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let takeover = f
        .records(&key, "takeover")
        .into_iter()
        .last()
        .expect("the takeover's record");
    assert!(
        takeover["kept"][0]
            .as_str()
            .is_some_and(|k| k.contains("could not be removed")),
        "{takeover}"
    );
}

/// A process killed (and reaped) when dropped, so a failing test leaves
/// none behind.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_plain_terraform_of_the_same_state_keeps_a_lock_attributed_to_a_dead_holder() {
    // A holder on this host dies; terraform's lock is attributed to it by
    // user@host and time, or by an ID its heartbeat recorded (the lock of
    // its user taken after its start). A plain terraform (not through
    // tflock) working in the same directory may be that lock's owner:
    // removing the lock under it would let a second writer in.
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let key = f.terraform_lock_id();
    let plant = |who: &str| plant_terraform_lock(&f, &key, who, "plain");
    let holder = |name: &str, lease: &str| {
        let log = f.path(&format!("{name}.log"));
        let run = spawn(
            f.tflock_in(&dir)
                .args(["--lease", lease, "run"])
                .args(f.sigchild(&log, &["--sleep", "600"])),
        );
        wait_child_ready("the holder's child", &log);
        let who = dynamo::holder_field(&f.lease_item(&key).unwrap(), "who");
        (run, who)
    };
    let dead_lease = |name: &str| {
        let (mut run, who) = holder(name, "2s");
        kill_everything(&mut run);
        let lease = f.lease_item(&key).unwrap();
        assert!(!dynamo::has(&lease, "terraform_lock_id"), "{lease:?}");
        who
    };
    // A stand-in for plain terraform: `sleep` under the name terraform.
    let terraform = f.path("bin/terraform");
    std::fs::create_dir_all(terraform.parent().unwrap()).unwrap();
    let sleep = ["/bin/sleep", "/usr/bin/sleep"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap();
    std::os::unix::fs::symlink(sleep, &terraform).unwrap();
    let stand_in = |cwd: &std::path::Path| {
        let plain = Running(
            std::process::Command::new(&terraform)
                .arg("600")
                .current_dir(cwd)
                .env_remove("TFLOCK_TOKEN")
                .spawn()
                .unwrap(),
        );
        let pid = plain.0.id().to_string();
        wait_until("the stand-in to run", Duration::from_secs(10), || {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim_end() == "terraform")
        });
        (plain, pid)
    };
    let (mut plain, pid) = stand_in(&dir);
    let kept = |out: &std::process::Output, said: String, pid: &str| {
        assert_eq!(code(out), 0, "{}{}", stdout(out), stderr(out));
        assert!(
            said.contains("may be plain terraform's (pid ")
                && said
                    .split(|c: char| !c.is_ascii_digit())
                    .any(|word| word == pid),
            "names the stand-in, pid {pid}: {said}"
        );
        assert!(f.dynamo.get(&f.table, &key).is_some(), "the lock stays");
    };

    // The audit record of the last event of `kind` says what was kept.
    let audited = |kind: &str| {
        let event = f
            .records(&key, kind)
            .into_iter()
            .last()
            .expect("an audit record");
        assert!(
            event["kept"][0]
                .as_str()
                .is_some_and(|k| k.contains("may be plain terraform's")),
            "{event}"
        );
    };

    // Attributed by user@host and time.
    let who = dead_lease("first");
    plant(&who);
    let out = output(f.tflock_in(&dir).args(["force-unlock", "--verify"]));
    kept(&out, stdout(&out), &pid);
    assert_eq!(f.lease_state(&key).as_deref(), Some("released"));
    audited("force_unlock");

    // Attributed by the ID the holder's heartbeat recorded (a longer lease:
    // the heartbeat looks for terraform's lock a bounded number of times).
    let (mut run, who) = holder("recorded", "6s");
    plant(&who);
    wait_until(
        "the heartbeat to record the lock",
        Duration::from_secs(20),
        || {
            f.lease_item(&key).is_some_and(|i| {
                dynamo::has(&i, "terraform_lock_id")
                    && dynamo::s(&i, "terraform_lock_id") == "plain"
            })
        },
    );
    kill_everything(&mut run);
    let out = output(f.tflock_in(&dir).args(["force-unlock", "--verify"]));
    kept(&out, stdout(&out), &pid);

    // A waiter taking the lease over leaves it too.
    let who = dead_lease("second");
    plant(&who);
    let out = output(f.tflock_in(&dir).args([
        "--takeover-stale",
        "--lock-timeout",
        "30s",
        "run",
        "--",
        "true",
    ]));
    assert!(stderr(&out).contains("taking it over"), "{}", stderr(&out));
    kept(&out, stderr(&out), &pid);
    audited("takeover");

    // A plain terraform in another clone of the configuration, initialised
    // with the same backend, works on the same state: it keeps the lock too.
    plain.0.kill().unwrap();
    plain.0.wait().unwrap();
    let init = std::fs::read_to_string(dir.join(".terraform/terraform.tfstate")).unwrap();
    let initialised = |name: &str, init: &str| {
        let clone = f.path(name);
        std::fs::create_dir_all(clone.join(".terraform")).unwrap();
        std::fs::write(clone.join(".terraform/terraform.tfstate"), init).unwrap();
        clone
    };
    let clone = initialised("clone", &init);
    let (mut plain, pid) = stand_in(&clone);
    let who = dead_lease("clone");
    plant(&who);
    let out = output(f.tflock_in(&dir).args(["force-unlock", "--verify"]));
    kept(&out, stdout(&out), &pid);
    assert!(
        stdout(&out).contains("clone"),
        "names where it works: {}",
        stdout(&out)
    );

    // One working on another state elsewhere does not: the same kind of
    // lock is the dead holder's, and goes.
    plain.0.kill().unwrap();
    plain.0.wait().unwrap();
    let other = initialised(
        "other",
        &init.replace("app/terraform.tfstate", "other/terraform.tfstate"),
    );
    let (_plain, _) = stand_in(&other);
    let who = dead_lease("third");
    plant(&who);
    let out = output(f.tflock_in(&dir).args(["force-unlock", "--verify"]));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        f.dynamo.get(&f.table, &key).is_none(),
        "removed: {}",
        stdout(&out)
    );
}
