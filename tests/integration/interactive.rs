//! On a terminal (DESIGN §5): the child shares tflock's process group, so
//! the terminal delivers Ctrl-C to it, and tflock must not send it again;
//! Ctrl-Z suspends both.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::*;

fn on_pty(
    f: &Fixture,
    wait_file: &Path,
    wait_for: &str,
    transcript: &Path,
    script_options: &[&str],
    tflock_args: &[String],
) -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/pty_run.py");
    let mut cmd = f.tflock("tty");
    cmd.arg("--version"); // replaced below: keep the fixture's environment
    let mut pty = Command::new(moto::python());
    f.scrub(&mut pty);
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            pty.env(k, v);
        }
    }
    pty.env("TERM", "xterm-256color")
        .arg(script)
        .arg("--wait-file")
        .arg(wait_file)
        .arg("--wait-for")
        .arg(wait_for)
        .arg("--transcript")
        .arg(transcript)
        .args(script_options)
        .arg("--")
        .arg(TFLOCK)
        .args(tflock_args);
    pty
}

#[test]
fn ctrl_c_on_a_terminal_reaches_the_child_exactly_once() {
    let f = Fixture::new();
    let log = f.path("child.log");
    let transcript = f.path("tty.out");
    let args = run_sigchild(&f, &log, &["--sleep", "60", "--linger", "0.5"]);
    let out = output(&mut on_pty(&f, &log, "ready", &transcript, &[], &args));
    assert_eq!(
        code(&out),
        130,
        "the child's 128+2: {}",
        std::fs::read_to_string(&transcript).unwrap_or_default()
    );
    assert_eq!(
        signals_received(&log),
        ["SIGINT"],
        "the terminal's Ctrl-C, and no second one from tflock"
    );
    assert_eq!(f.lease_state("tty").as_deref(), Some("released"));
}

#[test]
fn waiting_on_a_terminal_shows_the_holder_and_ctrl_c_ends_it() {
    let f = Fixture::new();
    let log = f.path("holder.log");
    let holder = spawn(
        f.tflock("tty")
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "60"])),
    );
    wait_child_ready("the holder's child to start", &log);

    let transcript = f.path("tty.out");
    let args: Vec<String> = ["--lock-timeout", "5m", "run", "--", "true"]
        .map(String::from)
        .to_vec();
    let out = output(&mut on_pty(
        &f,
        &transcript,
        "held by",
        &transcript,
        &[],
        &args,
    ));
    assert_eq!(code(&out), 130);
    let screen = String::from_utf8_lossy(&std::fs::read(&transcript).unwrap()).into_owned();
    assert!(
        screen.contains("waiting") && screen.contains("held by") && screen.contains("run: python"),
        "{screen}"
    );
    assert_eq!(f.lease_items().len(), 1, "the waiter left nothing behind");
    assert_eq!(
        f.lease_state("tty").as_deref(),
        Some("held"),
        "the holder still holds"
    );

    signal(&holder, nix::sys::signal::Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
}

/// `run` with the signal-recording child, logging to `log`.
fn run_sigchild(f: &Fixture, log: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["run".to_string()];
    args.extend(f.sigchild(log, extra));
    args
}

/// The child's pid, from its "ready" line.
fn child_pid(log: &Path) -> i32 {
    child_log(log)
        .iter()
        .find(|(e, _, _)| e == "ready")
        .and_then(|(_, d, _)| d.split_whitespace().next()?.parse().ok())
        .expect("a ready line")
}

/// A process's state letter and parent, from `/proc/PID/stat`.
fn state_and_parent(pid: i32) -> Option<(String, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut after = stat.rsplit_once(')')?.1.split_whitespace();
    Some((after.next()?.to_string(), after.next()?.parse().ok()?))
}

/// A process's process group.
fn group_of(pid: i32) -> i32 {
    nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(pid)))
        .unwrap()
        .as_raw()
}

#[test]
fn ctrl_z_suspends_the_command_with_tflock_even_with_stdin_redirected() {
    // `tflock apply < answers` typed at a prompt: stdin is not a terminal,
    // yet the terminal's Ctrl-Z stops tflock's process group. A command in
    // a group of its own would run on while tflock, and the renewal of its
    // lease, stood still: a lease proved stale under a running terraform.
    use nix::sys::signal::{Signal, kill, killpg};
    use nix::unistd::Pid;
    let f = Fixture::new();
    let log = f.path("child.log");
    let transcript = f.path("tty.out");
    let args = run_sigchild(&f, &log, &["--sleep", "60"]);
    let options = ["--keys", "1a", "--stdin-null", "--job"];
    let pty = spawn(&mut on_pty(&f, &log, "ready", &transcript, &options, &args));
    wait_child_ready("the child to start", &log);
    let child = child_pid(&log);
    let tflock = state_and_parent(child).unwrap().1;
    assert_eq!(group_of(child), group_of(tflock), "in tflock's group");
    wait_until(
        "Ctrl-Z to stop tflock and its command",
        Duration::from_secs(10),
        || {
            [tflock, child]
                .iter()
                .all(|p| state_and_parent(*p).is_some_and(|(state, _)| state == "T"))
        },
    );
    // `fg`, then `kill`: the command gets the forwarded SIGTERM only.
    killpg(Pid::from_raw(tflock), Signal::SIGCONT).unwrap();
    kill(Pid::from_raw(tflock), Signal::SIGTERM).unwrap();
    let out = finish(pty, Duration::from_secs(30));
    assert_eq!(
        code(&out),
        143,
        "{}",
        std::fs::read_to_string(&transcript).unwrap_or_default()
    );
    assert_eq!(signals_received(&log), ["SIGTERM"]);
    assert_eq!(f.lease_state("tty").as_deref(), Some("released"));
}

#[test]
fn a_hang_up_reaches_the_command_when_tflock_leads_the_session() {
    // `ssh -t host tflock apply` whose connection drops: the kernel sends
    // the hang-up to the session's leader, tflock, alone. Without tflock
    // terraform would have had it; tflock passes it on.
    let f = Fixture::new();
    let log = f.path("child.log");
    let transcript = f.path("tty.out");
    let args = run_sigchild(&f, &log, &["--sleep", "60"]);
    let options = ["--hang-up"];
    let out = output(&mut on_pty(&f, &log, "ready", &transcript, &options, &args));
    assert_eq!(code(&out), 129, "the child's 128+1");
    assert_eq!(signals_received(&log), ["SIGHUP"], "once");
    assert_eq!(f.lease_state("tty").as_deref(), Some("released"));
}

#[test]
fn a_background_job_signalled_as_a_group_passes_the_signal_on_once() {
    // `nohup tflock apply &` then `kill %1`: the shell signals the job's
    // whole group. With stdin redirected and the terminal not its own, the
    // run is as without a terminal: the command in a group of its own gets
    // the SIGTERM once, forwarded (in tflock's group, it would get it from
    // the shell and again from tflock: terraform exits at once on a second).
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let f = Fixture::new();
    let log = f.path("child.log");
    let transcript = f.path("tty.out");
    let args = run_sigchild(&f, &log, &["--sleep", "60", "--linger", "0.5"]);
    // No keys to type: the wait file never shows this text.
    let options = ["--stdin-null", "--background-job"];
    let pty = spawn(&mut on_pty(&f, &log, "never", &transcript, &options, &args));
    wait_child_ready("the child to start", &log);
    let child = child_pid(&log);
    let tflock = state_and_parent(child).unwrap().1;
    // Two signals sent a moment apart may merge into one, so the count
    // alone proves little: the command must be in a group of its own.
    assert_ne!(group_of(child), group_of(tflock));
    killpg(Pid::from_raw(tflock), Signal::SIGTERM).unwrap();
    let out = finish(pty, Duration::from_secs(30));
    assert_eq!(code(&out), 143);
    assert_eq!(signals_received(&log), ["SIGTERM"], "once");
}
