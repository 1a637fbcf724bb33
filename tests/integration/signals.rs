//! Signals, crashes and lease loss, for real (DESIGN §4, §5).

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::proxy::{Mode, Proxy};
use crate::support::*;

fn released_at(f: &Fixture, key: &str) -> f64 {
    let item = f.lease_item(key).unwrap();
    let released = match dynamo::m(&item, "released") {
        Some(m) => dynamo::s(m, "at"),
        None => panic!("released: {item:?}"),
    };
    let t = chrono::DateTime::parse_from_rfc3339(&released).unwrap();
    t.timestamp_micros() as f64 / 1e6
}

#[test]
fn sigterm_is_forwarded_once_and_the_lease_released_after_the_child_stops() {
    let f = Fixture::new();
    let log = f.path("child.log");
    let tflock = spawn(
        f.tflock("term")
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "60", "--linger", "1"])),
    );
    wait_child_ready("the child to start", &log);
    signal(&tflock, Signal::SIGTERM);
    let out = finish(tflock, Duration::from_secs(30));

    assert_eq!(
        code(&out),
        143,
        "the child's 128+15 passes through: {}",
        stderr(&out)
    );
    assert_eq!(
        signals_received(&log),
        ["SIGTERM"],
        "forwarded exactly once"
    );
    let child_exit = child_log(&log)
        .into_iter()
        .find(|(e, _, _)| e == "exit")
        .unwrap()
        .2;
    assert_eq!(f.lease_state("term").as_deref(), Some("released"));
    assert!(
        released_at(&f, "term") >= child_exit,
        "released only after the child had stopped"
    );
}

#[test]
fn every_signal_is_forwarded_once_without_a_terminal() {
    let f = Fixture::new();
    let log = f.path("child.log");
    let tflock = spawn(f.tflock("sigs").arg("run").args(f.sigchild(
        &log,
        &["--sleep", "60", "--ignore", "SIGINT", "--ignore", "SIGHUP"],
    )));
    wait_child_ready("the child to start", &log);
    let mut expected = Vec::new();
    for sig in [
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGINT,
        Signal::SIGTERM,
    ] {
        signal(&tflock, sig);
        expected.push(sig.as_str().to_string());
        wait_until(
            &format!("{sig} to reach the child"),
            Duration::from_secs(10),
            || signals_received(&log).len() == expected.len(),
        );
    }
    let out = finish(tflock, Duration::from_secs(30));
    assert_eq!(code(&out), 143);
    assert_eq!(signals_received(&log), expected);
}

#[test]
fn kill_9_of_tflock_makes_the_child_receive_sigterm() {
    let f = Fixture::new();
    let log = f.path("child.log");
    let mut tflock = spawn(
        f.tflock("orphan")
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "60"])),
    );
    wait_child_ready("the child to start", &log);
    tflock.kill().unwrap();
    let _ = tflock.wait();
    wait_until(
        "the orphaned child to get SIGTERM",
        Duration::from_secs(10),
        || signals_received(&log) == ["SIGTERM"],
    );
    wait_until("the child to exit", Duration::from_secs(10), || {
        child_log(&log).iter().any(|(e, _, _)| e == "exit")
    });
    // Nobody released it: the lease stays until proved stale.
    assert_eq!(f.lease_state("orphan").as_deref(), Some("held"));
}

#[test]
fn losing_the_lease_interrupts_the_child_once_and_exits_77() {
    let mut f = Fixture::new();
    let proxy = Proxy::start(f.moto.port);
    f.endpoint = proxy.endpoint();
    let log = f.path("child.log");
    // The child ignores SIGINT, like a terraform that takes its time: tflock
    // must still send it only once, and wait.
    let tflock = spawn(
        f.tflock("lost")
            .args(["--lease", "3s", "--heartbeat", "1s", "run"])
            .args(f.sigchild(&log, &["--sleep", "12", "--ignore", "SIGINT"])),
    );
    wait_child_ready("the child to start", &log);
    let cut = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    proxy.set(Mode::Refuse);
    let out = finish(tflock, Duration::from_secs(40));

    assert_eq!(code(&out), 77, "{}", stderr(&out));
    assert_eq!(
        signals_received(&log),
        ["SIGINT"],
        "interrupted exactly once"
    );
    let interrupted = child_log(&log)
        .into_iter()
        .find(|(e, _, _)| e == "signal")
        .unwrap()
        .2;
    assert!(
        interrupted - cut < 3.0,
        "interrupted {:.2}s after the outage began, before the 3s lease could be proved stale",
        interrupted - cut
    );
    let err = stderr(&out);
    assert!(err.contains("lost the lease on lost"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_short_outage_is_ridden_through() {
    let mut f = Fixture::new();
    let proxy = Proxy::start(f.moto.port);
    f.endpoint = proxy.endpoint();
    let log = f.path("child.log");
    let tflock = spawn(
        f.tflock("blip")
            .args(["--lease", "6s", "--heartbeat", "1s", "run"])
            .args(f.sigchild(&log, &["--sleep", "5"])),
    );
    wait_child_ready("the child to start", &log);
    proxy.set(Mode::Refuse);
    // The outage itself: two heartbeats long, well inside the 6s lease.
    std::thread::sleep(Duration::from_millis(2000));
    proxy.set(Mode::Forward);
    let out = finish(tflock, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(signals_received(&log).is_empty());
    assert!(proxy.failed_connections() > 0, "the outage was real");
    assert!(!stderr(&out).contains("lost"), "{}", stderr(&out));
    assert_eq!(f.lease_state("blip").as_deref(), Some("released"));
}

#[test]
fn losing_the_lease_after_an_interrupt_sends_no_second_one() {
    let mut f = Fixture::new();
    let proxy = Proxy::start(f.moto.port);
    f.endpoint = proxy.endpoint();
    let log = f.path("child.log");
    let tflock = spawn(
        f.tflock("stopping")
            .args(["--lease", "3s", "--heartbeat", "1s", "run"])
            .args(f.sigchild(&log, &["--sleep", "10", "--ignore", "SIGINT"])),
    );
    wait_child_ready("the child to start", &log);
    signal(&tflock, Signal::SIGINT);
    wait_until("the forwarded SIGINT", Duration::from_secs(10), || {
        signals_received(&log).len() == 1
    });
    proxy.set(Mode::Refuse);
    let out = finish(tflock, Duration::from_secs(40));
    assert_eq!(code(&out), 77, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("already stopping"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        signals_received(&log),
        ["SIGINT"],
        "terraform would read a second SIGINT as 'exit now'"
    );
}

#[test]
fn a_heartbeat_of_a_third_of_the_lease_holds_it() {
    // The longest heartbeat allowed (DESIGN §4: lease/3), for a run longer
    // than the lease: renewed in time, never fenced.
    let f = Fixture::new();
    let out = output(f.tflock("third").args([
        "--lease",
        "2s",
        "--heartbeat",
        "666ms",
        "run",
        "--",
        "sleep",
        "3.5",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn a_holder_stopped_past_its_fencing_point_renews_on_resume() {
    let f = Fixture::new();
    let log = f.path("child.log");
    let tflock = spawn(
        f.tflock("paused")
            .args(["--lease", "3s", "--heartbeat", "1s", "run"])
            .args(f.sigchild(&log, &["--sleep", "7"])),
    );
    wait_child_ready("the child to start", &log);
    signal(&tflock, Signal::SIGSTOP);
    // Past the fencing point (2s) and the lease (3s): only a renewal can
    // tell whether anyone took it; nobody did.
    std::thread::sleep(Duration::from_secs(4));
    signal(&tflock, Signal::SIGCONT);
    let out = finish(tflock, Duration::from_secs(30));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(signals_received(&log).is_empty(), "not interrupted");
}

#[test]
fn ctrl_c_during_a_slow_acquire_takes_the_landed_lease_back() {
    let mut f = Fixture::new();
    let proxy = Proxy::start(f.moto.port);
    f.endpoint = proxy.endpoint();
    proxy.set_delay(Duration::from_secs(3));
    let tflock = spawn(f.tflock("slowlane").args(["run", "--", "true"]));
    // The acquire request is held up in the network when Ctrl-C comes.
    std::thread::sleep(Duration::from_millis(500));
    signal(&tflock, Signal::SIGINT);
    proxy.set(Mode::Forward);
    let out = finish(tflock, Duration::from_secs(30));
    assert_eq!(code(&out), 130, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was left behind"),
        "{}",
        stderr(&out)
    );
    assert_ne!(
        f.lease_state("slowlane").as_deref(),
        Some("held"),
        "the late acquire was taken back"
    );
}

#[test]
fn a_hangup_ignored_at_start_stays_ignored() {
    // `nohup tflock apply &`: the caller ignores SIGHUP, so must tflock, and
    // so must its command (a forwarded hang-up would kill terraform).
    let f = Fixture::new();
    let log = f.path("child.log");
    let mut cmd = f.tflock("nohup");
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            nix::sys::signal::signal(Signal::SIGHUP, nix::sys::signal::SigHandler::SigIgn)
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    let tflock = spawn(cmd.arg("run").args(f.sigchild(&log, &["--sleep", "60"])));
    wait_child_ready("the child to start", &log);
    signal(&tflock, Signal::SIGHUP);
    signal(&tflock, Signal::SIGTERM);
    let out = finish(tflock, Duration::from_secs(30));
    assert_eq!(code(&out), 143, "{}", stderr(&out));
    assert_eq!(
        signals_received(&log),
        ["SIGTERM"],
        "the hang-up was not passed on"
    );
}
