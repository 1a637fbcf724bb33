//! Running the child under the lease: spawn, heartbeat, signal forwarding,
//! self-fencing on lease loss, release after the child has exited, and the
//! exit status (DESIGN §4, §5).

pub mod child;
pub mod deadline;
pub mod heartbeat;
pub mod signals;

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use tokio::sync::{oneshot, watch};

use crate::error::{Error, exit};
use crate::lock::{Lease, LeaseTable, Release};
use crate::output::{Event, Reporter};
use heartbeat::{Heartbeat, Lost, NativeLock};
use signals::{Received, Signals};

/// How long to try to release after the child has exited. If this fails the
/// lease is left held; it is then recovered by `force-unlock --verify`.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Run<'a> {
    pub table: &'a LeaseTable,
    pub lease: Lease,
    pub heartbeat: Duration,
    pub acquired_started: Duration,
    pub native: Option<NativeLock>,
    pub child: child::Spec,
    pub interactive: bool,
    pub reporter: &'a Reporter,
}

/// Where signals for the child go.
#[derive(Clone, Copy)]
struct Target {
    pid: Pid,
    own_group: bool,
}

impl Target {
    fn send(self, sig: Signal) {
        // ESRCH (already gone) is fine: it has exited or is exiting.
        let _ = if self.own_group {
            killpg(self.pid, sig)
        } else {
            kill(self.pid, sig)
        };
    }
}

/// Supervises the child to its end and returns tflock's exit code.
pub async fn run(run: Run<'_>, signals: &mut Signals) -> Result<u8, Error> {
    let Run {
        table,
        lease,
        heartbeat,
        acquired_started,
        native,
        child: spec,
        interactive,
        reporter,
    } = run;
    let held_since = Instant::now();
    let mut child = match child::spawn(&spec) {
        Ok(c) => c,
        Err(e) => {
            release(table, &lease, held_since, reporter).await;
            return Err(match e.kind() {
                std::io::ErrorKind::NotFound => Error::ChildNotFound {
                    program: spec.program.to_string_lossy().into_owned(),
                },
                _ => Error::ChildNotExecutable {
                    program: spec.program.to_string_lossy().into_owned(),
                    reason: e.to_string(),
                },
            });
        }
    };
    let target = Target {
        pid: Pid::from_raw(child.id().map(|id| id as i32).unwrap_or(0)),
        own_group: spec.own_process_group,
    };

    let (stop_tx, stop_rx) = watch::channel(false);
    let (lost_tx, mut lost_rx) = oneshot::channel::<Lost>();
    let fence = lease.fence;
    let beat = Heartbeat {
        table: table.clone(),
        lease,
        heartbeat,
        acquired_started,
        native,
        reporter: reporter.clone(),
    };
    let beating = tokio::spawn(beat.run(stop_rx, lost_tx));

    let mut fenced = false;
    let mut lost_open = true;
    // Whether the child has already been asked to stop (a forwarded SIGINT or
    // SIGTERM, or Ctrl-C from the terminal): terraform reads one more
    // interrupt as "exit immediately", which may lose state.
    let mut asked_to_stop = false;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            sig = signals.recv() => {
                asked_to_stop |= matches!(sig, Received::Interrupt | Received::Terminate);
                forward(sig, target, interactive, reporter);
            }
            lost = &mut lost_rx, if lost_open => {
                lost_open = false;
                if let Ok(Lost(reason)) = lost {
                    fenced = true;
                    reporter.event(Event::LeaseLost { lock_key: table.lock_key(), fence, reason: &reason });
                    if asked_to_stop {
                        reporter.warn("the command is already stopping; waiting for it");
                    } else {
                        // Once, and never again by ourselves.
                        asked_to_stop = true;
                        target.send(Signal::SIGINT);
                        reporter.warn("interrupted the command (SIGINT) and waiting for it to stop");
                    }
                }
            }
        }
    };
    let _ = stop_tx.send(true);
    let lease = beating
        .await
        .map_err(|e| Error::Internal(format!("heartbeat task failed: {e}")))?;
    release(table, &lease, held_since, reporter).await;

    let status =
        status.map_err(|e| Error::Internal(format!("waiting for the command failed: {e}")))?;
    if fenced {
        return Ok(exit::LEASE_LOST);
    }
    Ok(exit_code(status))
}

/// DESIGN §5: interactively, the terminal already delivered Ctrl-C, Ctrl-\ and
/// hang-up to the child (it shares our process group), so sending them again
/// would make terraform stop abruptly; only SIGTERM, which no terminal sends,
/// is passed on. Non-interactively the child has its own group and every
/// signal is forwarded once.
fn forward(sig: Received, target: Target, interactive: bool, reporter: &Reporter) {
    if interactive && sig.comes_from_terminal() {
        reporter.detail(&format!(
            "{}: the terminal delivered it to the command too",
            sig.name()
        ));
        return;
    }
    reporter.detail(&format!("forwarding {} to the command", sig.name()));
    target.send(sig.signal());
}

async fn release(table: &LeaseTable, lease: &Lease, held_since: Instant, reporter: &Reporter) {
    match tokio::time::timeout(RELEASE_TIMEOUT, table.release(&lease.token)).await {
        Ok(Ok(Release::Released)) => reporter.event(Event::Released {
            lock_key: table.lock_key(),
            fence: lease.fence,
            held: held_since.elapsed(),
        }),
        Ok(Ok(Release::NotOurs(_))) => reporter.warn(&format!(
            "the lease on {} was no longer ours to release",
            table.lock_key()
        )),
        Ok(Err(e)) => reporter.warn(&format!(
            "could not release the lease on {}: {}; recover it with `tflock force-unlock --verify`",
            table.lock_key(),
            e.error
        )),
        Err(_) => reporter.warn(&format!(
            "releasing the lease on {} timed out; recover it with `tflock force-unlock --verify`",
            table.lock_key()
        )),
    }
}

/// The child's exit code, or 128+N when it died of signal N (as a shell says).
pub fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return code as u8;
    }
    match status.signal() {
        Some(sig) => exit::SIGNAL_BASE.saturating_add(sig as u8),
        None => 1,
    }
}
