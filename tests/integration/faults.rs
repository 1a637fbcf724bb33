//! Faults (issue #7): answers lost after the write landed, throttling and
//! server errors, the service restarted empty, a holder stopped past its
//! lease while another takes over, and holders killed at random moments.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::support::moto;
use crate::support::proxy::{Mode, Proxy};
use crate::support::*;

/// A fixture whose tflock commands go through a fault proxy.
fn behind_proxy() -> (Fixture, Proxy) {
    let mut f = Fixture::new();
    let proxy = Proxy::start(f.moto.port);
    f.endpoint = proxy.endpoint();
    (f, proxy)
}

#[test]
fn an_acquire_whose_answer_is_lost_still_ends_with_one_holder() {
    let (f, proxy) = behind_proxy();
    // The acquire lands, its answer is lost; the SDK's retry finds our own
    // token in the refusal and knows the lease is ours.
    proxy.next(1, Mode::DropResponse);
    let log = f.path("child.log");
    let out = output(f.tflock("lost-ack").arg("run").args(f.sigchild(&log, &[])));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(proxy.failed_connections() >= 1, "the fault happened");
    let item = f.lease_item("lost-ack").unwrap();
    assert_eq!(
        dynamo::s(&item, "state"),
        "released",
        "no lease left behind"
    );
    assert_eq!(dynamo::s(&item, "fence"), "1", "acquired once, not twice");
}

#[test]
fn a_release_whose_answer_is_lost_still_releases() {
    let (f, proxy) = behind_proxy();
    let log = f.path("child.log");
    let run = spawn(
        f.tflock("lost-release")
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "1"])),
    );
    wait_child_ready("the child", &log);
    // The next requests are the release and the history record: drop the
    // first answer; the retry finds the lease already released by us.
    proxy.next(1, Mode::DropResponse);
    let out = finish(run, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(f.lease_state("lost-release").as_deref(), Some("released"));
    assert_eq!(
        code(&output(
            f.tflock("lost-release").args(["run", "--", "true"])
        )),
        0
    );
}

#[test]
fn throttling_and_server_errors_are_retried_never_taken_for_a_held_lock() {
    let (f, proxy) = behind_proxy();
    for (status, error) in [
        (400, "ProvisionedThroughputExceededException"),
        (500, "InternalServerError"),
    ] {
        proxy.next(2, Mode::Answer(status, error));
        let out = output(f.tflock("throttled").args(["run", "--", "true"]));
        assert_eq!(
            code(&out),
            0,
            "{error} twice, then success: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("held by"), "{}", stderr(&out));
    }
    // Throttled for longer than the SDK retries: a service error (69), not
    // "lock held" (75).
    proxy.set(Mode::Answer(400, "ProvisionedThroughputExceededException"));
    let out = output(f.tflock("throttled").args(["run", "--", "true"]));
    assert_eq!(code(&out), 69, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ProvisionedThroughputExceededException"),
        "{}",
        stderr(&out)
    );
    proxy.set(Mode::Forward);
    assert_eq!(f.lease_state("throttled").as_deref(), Some("released"));
}

#[test]
fn a_holder_rides_through_throttled_renewals() {
    let (f, proxy) = behind_proxy();
    let log = f.path("child.log");
    let run = spawn(
        f.tflock("throttled-holder")
            .args(["--lease", "6s", "--heartbeat", "1s", "run"])
            .args(f.sigchild(&log, &["--sleep", "5"])),
    );
    wait_child_ready("the child", &log);
    proxy.set(Mode::Answer(400, "ThrottlingException"));
    std::thread::sleep(Duration::from_millis(2000));
    proxy.set(Mode::Forward);
    let out = finish(run, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(signals_received(&log).is_empty(), "not interrupted");
}

#[test]
fn slow_answers_below_the_lease_change_nothing() {
    let (f, proxy) = behind_proxy();
    proxy.set(Mode::Delay(Duration::from_millis(300)));
    let log = f.path("child.log");
    let out = output(
        f.tflock("slow-net")
            .args(["--lease", "3s", "--heartbeat", "1s", "run"])
            .args(f.sigchild(&log, &["--sleep", "3"])),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(signals_received(&log).is_empty());
}

#[test]
fn a_holder_stopped_past_its_lease_finds_it_taken_and_stops_its_command() {
    let f = Fixture::new();
    let log = f.path("holder.log");
    // On another host (a UTS namespace): a stopped process on this host would
    // count as alive, and rightly so.
    let mut cmd = f.tflock_elsewhere("stopped", "paused-host", None);
    let holder = spawn(
        cmd.args(["--lease", "2s", "--heartbeat", "600ms", "run"])
            .args(f.sigchild(&log, &["--sleep", "60", "--linger", "0.5"])),
    );
    wait_child_ready("the holder's child", &log);
    // Only tflock stops; its command (in a group of its own) runs on: the
    // fencing limit of DESIGN §2, which terraform's own lock covers.
    signal(&holder, Signal::SIGSTOP);
    let out = output(f.tflock("stopped").args([
        "--takeover-stale",
        "--lock-timeout",
        "30s",
        "run",
        "--",
        "true",
    ]));
    assert_eq!(
        code(&out),
        0,
        "taken over from the silent holder: {}",
        stderr(&out)
    );
    signal(&holder, Signal::SIGCONT);
    let out = finish(holder, Duration::from_secs(30));
    assert_eq!(code(&out), 77, "it notices and stops: {}", stderr(&out));
    assert_eq!(
        signals_received(&log),
        ["SIGINT"],
        "its command interrupted once"
    );
    assert!(stderr(&out).contains("lost the lease"), "{}", stderr(&out));
}

#[test]
fn holders_killed_at_random_moments_never_block_for_more_than_a_lease() {
    let f = Fixture::new();
    // Kill -9 at points from before the acquire lands to during the
    // release; after each, a waiter that proves staleness gets the lock
    // within a lease (1s) plus margin and polling.
    let delays = [0u64, 3, 7, 12, 20, 30, 45, 70, 100, 140];
    for (i, delay) in delays.iter().enumerate() {
        let mut victim = spawn(
            f.tflock("random")
                .args(["--lease", "1s", "run", "--", "sleep", "0.05"]),
        );
        std::thread::sleep(Duration::from_millis(*delay));
        let _ = victim.kill();
        let _ = victim.wait();
        let start = Instant::now();
        let out = output(f.tflock("random").args([
            "--lease",
            "1s",
            "--takeover-stale",
            "--lock-timeout",
            "20s",
            "run",
            "--",
            "true",
        ]));
        assert_eq!(
            code(&out),
            0,
            "after a kill at {delay} ms (#{i}): {}",
            stderr(&out)
        );
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "blocked {:?} after a kill at {delay} ms",
            start.elapsed()
        );
        assert_ne!(
            f.lease_state("random").as_deref(),
            Some("held"),
            "nothing left held"
        );
    }
}

#[test]
fn the_service_restarted_empty_mid_run_stops_the_command() {
    let mut own = moto::OwnMoto::start();
    let mut f = Fixture::new();
    let dynamo = Dynamo::new(own.endpoint());
    dynamo.create_table(
        &f.table,
        "LockID",
        aws_sdk_dynamodb::types::ScalarAttributeType::S,
    );
    f.endpoint = own.endpoint();
    let log = f.path("child.log");
    let run = spawn(
        f.tflock("restarted")
            .args(["--lease", "3s", "--heartbeat", "1s", "run"])
            .args(f.sigchild(&log, &["--sleep", "60", "--linger", "0.3"])),
    );
    wait_child_ready("the child", &log);
    // The table (and the lease in it) is gone: the lease cannot be renewed.
    own.restart();
    let out = finish(run, Duration::from_secs(40));
    assert_eq!(code(&out), 77, "{}", stderr(&out));
    assert_eq!(signals_received(&log), ["SIGINT"]);
    assert!(
        stderr(&out).contains("does not exist"),
        "names the cause: {}",
        stderr(&out)
    );
}

#[test]
fn a_blackholed_network_fences_before_the_lease_could_be_taken() {
    let (f, proxy) = behind_proxy();
    let log = f.path("child.log");
    let run = spawn(
        f.tflock("blackhole")
            .args(["--lease", "3s", "--heartbeat", "1s", "run"])
            .args(f.sigchild(&log, &["--sleep", "30", "--linger", "0.2"])),
    );
    wait_child_ready("the child", &log);
    let cut = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    // Requests vanish without an answer: renewals time out rather than fail.
    proxy.set(Mode::Blackhole);
    let out = finish(run, Duration::from_secs(60));
    assert_eq!(code(&out), 77, "{}", stderr(&out));
    let interrupted = child_log(&log)
        .into_iter()
        .find(|(e, _, _)| e == "signal")
        .unwrap()
        .2;
    assert!(
        interrupted - cut < 3.0,
        "interrupted {:.2}s into the outage, inside the 3s lease",
        interrupted - cut
    );
}

#[test]
fn a_holder_with_a_skewed_clock_is_never_taken_over_early() {
    let f = Fixture::new();
    let log = f.path("holder.log");
    // Its wall clock says its lease expired ten minutes ago; it is alive.
    let mut cmd = f.tflock_elsewhere("skew-takeover", "slow-clock-host", Some("-10m"));
    let holder = spawn(
        cmd.args(["--lease", "2s", "run"])
            .args(f.sigchild(&log, &["--sleep", "30"])),
    );
    wait_child_ready("the holder's child", &log);
    let out = output(f.tflock("skew-takeover").args([
        "--takeover-stale",
        "--lock-timeout",
        "6s",
        "run",
        "--",
        "true",
    ]));
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(!stderr(&out).contains("taking it over"), "{}", stderr(&out));
    assert!(signals_received(&log).is_empty());
    let pid: i32 = dynamo::holder_field(&f.lease_item("skew-takeover").unwrap(), "pid")
        .parse()
        .unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM).unwrap();
    finish(holder, Duration::from_secs(20));
}

#[test]
fn the_ttl_attribute_comes_with_renewals_and_takeovers_and_goes_with_the_release() {
    let f = Fixture::new();
    let gc_at = |f: &Fixture| f.lease_item("gc").unwrap().contains_key("gc_at");
    // A run shorter than a heartbeat never writes it, not even while held.
    let holder = spawn(f.tflock("gc").args(["run", "--", "sleep", "1"]));
    wait_until("the lease is held", Duration::from_secs(10), || {
        f.lease_state("gc").as_deref() == Some("held")
    });
    assert!(!gc_at(&f), "written by the acquisition");
    let out = finish(holder, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!gc_at(&f), "written without a renewal");
    // A holder that renews carries it; its release removes it.
    let holder = spawn(f.tflock("gc").args([
        "--lease",
        "3s",
        "--heartbeat",
        "1s",
        "run",
        "--",
        "sleep",
        "2.5",
    ]));
    wait_until("a renewal writes it", Duration::from_secs(10), || gc_at(&f));
    let out = finish(holder, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(f.lease_state("gc").as_deref(), Some("released"));
    assert!(!gc_at(&f), "left behind by the release");
    // A holder killed after renewing leaves it; the takeover writes its own
    // (the item is still held: a 30 s lease's, later than the dead 1 s
    // lease's), and the taker's release removes it.
    let gc_value = |f: &Fixture| {
        f.lease_item("gc")
            .unwrap()
            .get("gc_at")
            .map(|v| v.as_n().unwrap().parse::<i64>().unwrap())
    };
    let mut victim = spawn(
        f.tflock("gc")
            .args(["--lease", "1s", "run", "--", "sleep", "3"]),
    );
    wait_until("a renewal writes it", Duration::from_secs(10), || gc_at(&f));
    let _ = victim.kill();
    let _ = victim.wait();
    let dead = gc_value(&f).unwrap();
    let taker = spawn(f.tflock("gc").args([
        "--lease",
        "30s",
        "--takeover-stale",
        "--lock-timeout",
        "20s",
        "run",
        "--",
        "sleep",
        "2",
    ]));
    wait_until(
        "the takeover writes its own",
        Duration::from_secs(15),
        || gc_value(&f).is_some_and(|v| v >= dead + 20),
    );
    let out = finish(taker, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("took over"), "{}", stderr(&out));
    assert_eq!(f.lease_state("gc").as_deref(), Some("released"));
    assert!(!gc_at(&f), "left behind by the taker's release");
}
