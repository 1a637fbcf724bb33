//! Running the child under the lease: spawn, heartbeat, signal forwarding,
//! self-fencing on lease loss, release after the child has exited, and the
//! exit status (DESIGN §4, §5).

pub mod child;
pub mod deadline;
pub mod heartbeat;
pub mod signals;
pub mod terminal;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use tokio::sync::{oneshot, watch};

use crate::error::{Error, exit};
use crate::lock::{Lease, LeaseTable, Release, Renew, Runs};
use crate::output::{Event, Reporter};
use heartbeat::{Heartbeat, Lost, NativeLock};
use signals::{Received, Signals};
use terminal::Terminal;

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
    pub terminal: Terminal,
    /// Interrupt the child once when it runs longer than this.
    pub max_duration: Option<Duration>,
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

/// How the supervised run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The child exited (or died of a signal) on its own terms.
    Exited,
    /// The lease was lost; the child was interrupted.
    LeaseLost,
    /// The child ran past `--max-duration` and was interrupted.
    TimedOut,
}

pub struct Finished {
    /// tflock's exit code: the child's, 128+N, 77 or 124.
    pub exit_code: u8,
    /// The child's own code (128+N for signal N).
    pub child_code: u8,
    pub outcome: Outcome,
    pub held: Duration,
}

/// Supervises the child to its end. Does not release the lease: the caller
/// does, whatever this returns (even an error: the child never started).
pub async fn run(run: Run<'_>, signals: &mut Signals) -> Result<Finished, Error> {
    let Run {
        table,
        lease,
        heartbeat,
        acquired_started,
        native,
        child: spec,
        terminal,
        max_duration,
        reporter,
    } = run;
    let (lease, acquired_started) =
        confirmed_before_start(table, lease, heartbeat, acquired_started).await?;
    // A signal that came while the lease was confirmed (the caller checked
    // before that): the command is not started at all. Handled after the
    // spawn, it would reach a terraform that never saw the Ctrl-C.
    if let Some(sig) = signals.pending() {
        return Err(Error::interrupted_before_start(
            sig.signal(),
            Duration::ZERO,
        ));
    }
    let held_since = Instant::now();
    let mut child =
        child::spawn(&spec).map_err(|e| child::start_failure(&spec.program, &spec.path, &e))?;
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
        command: child.id().map(crate::process::describe),
        reporter: reporter.clone(),
    };
    let beating = tokio::spawn(beat.run(stop_rx, lost_tx));

    let mut outcome = Outcome::Exited;
    let mut lost_open = true;
    // Whether the child has already been asked to stop (a forwarded SIGINT or
    // SIGTERM, Ctrl-C from the terminal, or our own interrupt): terraform
    // reads one more interrupt as "exit immediately", which may lose state.
    let mut asked_to_stop = false;
    let time_limit = tokio::time::sleep(max_duration.unwrap_or(Duration::MAX / 4));
    tokio::pin!(time_limit);
    let mut timing = max_duration.is_some();
    let interrupt_once = |why: &str, asked_to_stop: &mut bool| {
        if *asked_to_stop {
            reporter.warn(&format!(
                "{why}; the command is already stopping, waiting for it"
            ));
        } else {
            // Once, and never again by ourselves.
            *asked_to_stop = true;
            target.send(Signal::SIGINT);
            reporter.warn(&format!(
                "{why}: interrupted the command (SIGINT), waiting for it to stop"
            ));
        }
    };
    let status = loop {
        tokio::select! {
            // The command's exit first: one that exits as --max-duration
            // fires ended by itself, and is reported so (not 124).
            biased;
            status = child.wait() => break status,
            sig = signals.recv() => {
                asked_to_stop |= matches!(sig, Received::Interrupt | Received::Terminate);
                forward(sig, target, terminal, reporter);
            }
            lost = &mut lost_rx, if lost_open => {
                lost_open = false;
                if let Ok(Lost(reason)) = lost {
                    outcome = Outcome::LeaseLost;
                    reporter.event(Event::LeaseLost { lock_key: table.lock_key(), fence, reason: &reason });
                    interrupt_once("the lease was lost", &mut asked_to_stop);
                }
            }
            _ = &mut time_limit, if timing => {
                timing = false;
                if outcome == Outcome::Exited {
                    outcome = Outcome::TimedOut;
                }
                let limit = crate::duration::format(max_duration.unwrap_or_default());
                interrupt_once(&format!("the command ran past --max-duration {limit}"), &mut asked_to_stop);
            }
        }
    };
    let _ = stop_tx.send(true);
    beating
        .await
        .map_err(|e| Error::Internal(format!("heartbeat task failed: {e}")))?;
    // Lost as the command exited (both ready at once, the select took the
    // exit): the command still ran past the lease.
    if lost_open && let Ok(Lost(reason)) = lost_rx.try_recv() {
        outcome = Outcome::LeaseLost;
        reporter.event(Event::LeaseLost {
            lock_key: table.lock_key(),
            fence,
            reason: &reason,
        });
    }
    let status =
        status.map_err(|e| Error::Internal(format!("waiting for the command failed: {e}")))?;
    let child_code = exit_code(status);
    Ok(Finished {
        exit_code: match outcome {
            Outcome::Exited => child_code,
            Outcome::LeaseLost => exit::LEASE_LOST,
            Outcome::TimedOut => exit::TIMED_OUT,
        },
        child_code,
        outcome,
        held: held_since.elapsed(),
    })
}

/// DESIGN §5: interactively, the terminal already delivered Ctrl-C and
/// Ctrl-\ to the child (it shares our process group), so sending them again
/// would make terraform stop abruptly; SIGTERM, which no terminal sends, is
/// passed on, and so is a hang-up when tflock leads its session (the kernel
/// sends that to the leader alone). Non-interactively the child has its own
/// group and every signal is forwarded once.
fn forward(sig: Received, target: Target, terminal: Terminal, reporter: &Reporter) {
    if terminal.delivered_to_child(sig) {
        reporter.detail(&format!(
            "{}: the terminal delivered it to the command too",
            sig.name()
        ));
        return;
    }
    reporter.detail(&format!("forwarding {} to the command", sig.name()));
    target.send(sig.signal());
}

/// A run's history record, written with its release (see `history.rs`).
pub struct RunRecord<'a> {
    pub json: &'a str,
    /// Records the holder copied to the history while it ran (by path).
    pub copied: Vec<String>,
    pub history: &'a crate::history::History,
}

/// How a release ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// Released, the run's record in the same write.
    WithRecord,
    /// Released without the record, or not released (it timed out, kept
    /// failing): the caller writes the record on its own.
    Apart,
    /// Someone had forced the lease while it was still ours (force-unlock):
    /// it was lost at some point of the run.
    NotOurs,
}

/// Releases the lease after the child has exited (or never started).
/// `seen`: the state object as the run left it, for the state guard;
/// `record`: the run's history record, which goes with the release when it
/// can (see [`Released`]).
///
/// Each release request is bounded by `RELEASE_TIMEOUT`, and a copy of the
/// records a full lease item holds by the history's own write timeout: the
/// release itself never waits behind the history for long.
pub async fn release(
    table: &LeaseTable,
    lease: &Lease,
    held: Duration,
    seen: crate::lock::SeenUpdate<'_>,
    record: Option<RunRecord<'_>>,
    reporter: &Reporter,
) -> Released {
    let mut copied = record
        .as_ref()
        .map(|r| r.copied.clone())
        .unwrap_or_default();
    let mut with_record = record.is_some();
    // Three tries at most: with the record; after copying a full map, with
    // it again; the last one always without it, so that nothing about the
    // map can keep the lease held.
    for attempt in 0..3 {
        with_record &= attempt < 2;
        let runs = Runs {
            add: record
                .as_ref()
                .filter(|_| with_record)
                .map(|r| (lease.fence, r.json)),
            copied: &copied,
        };
        let answer = tokio::time::timeout(
            RELEASE_TIMEOUT,
            table.release(&lease.token, lease.ticket, lease.gc_at.is_set(), seen, runs),
        )
        .await;
        let found = match answer {
            Ok(Ok(Release::Released)) => {
                reporter.event(Event::Released {
                    lock_key: table.lock_key(),
                    fence: lease.fence,
                    held,
                });
                return if with_record {
                    Released::WithRecord
                } else {
                    Released::Apart
                };
            }
            Ok(Ok(Release::Full(found))) => found,
            Ok(Ok(Release::NotOurs(found))) => {
                reporter.warn(&format!(
                    "the lease on {} was no longer ours to release",
                    table.lock_key()
                ));
                // Forced while still ours: lost during the run. Under a new
                // holder, nothing tells whether it was forced or taken over,
                // or our own release landed unanswered before the next claim
                // (when its record went without it, no slot shows it).
                let forced =
                    found.is_some_and(|f| f.owner_token == lease.token && f.released_by.is_some());
                return if forced {
                    Released::NotOurs
                } else {
                    Released::Apart
                };
            }
            Ok(Err(e)) => {
                reporter.warn(&format!(
                    "could not release the lease on {}: {}; recover it with `tflock force-unlock --verify`",
                    table.lock_key(),
                    e.error
                ));
                return Released::Apart;
            }
            Err(_) => {
                reporter.warn(&format!(
                    "releasing the lease on {} timed out; recover it with `tflock force-unlock --verify`",
                    table.lock_key()
                ));
                return Released::Apart;
            }
        };
        // The record did not fit: copy what the item holds to the history,
        // then release again, removing it. When there is nothing to copy
        // (the slot holds what we cannot read) or the copy
        // fails, release without the record: the item never grows past its
        // limit, and the record is written on its own.
        let Some(history) = record.as_ref().map(|r| r.history) else {
            with_record = false;
            continue;
        };
        let fresh: BTreeMap<String, String> = found
            .runs
            .into_iter()
            .filter(|(path, _)| !copied.contains(path))
            .collect();
        // Our own slot holds something we cannot copy: releasing with the
        // record would be refused again.
        let slot = crate::lock::record::run_slot(lease.fence);
        if !fresh.contains_key(&slot) && !copied.contains(&slot) {
            with_record = false;
        }
        if fresh.is_empty() {
            with_record = false;
            continue;
        }
        match history.copy(table.lock_key(), &fresh).await {
            Ok(()) => copied.extend(fresh.into_keys()),
            Err(e) => {
                reporter.detail(&format!("could not copy run records to the history: {e}"));
                with_record = false;
            }
        }
    }
    reporter.warn(&format!(
        "the lease on {} kept refusing its release; recover it with `tflock force-unlock --verify`",
        table.lock_key()
    ));
    Released::Apart
}

/// What ran between the acquisition and the start of the command (a
/// takeover's clean-up, the state guard's reads, a backup copy, their
/// retries) may have lasted long enough for the lease to lapse, and nothing
/// renews it before the heartbeat starts. When the first renewal is already
/// due, it is made now: the command starts only on a lease confirmed ours
/// within a heartbeat. Returns the lease (new RVN) and when it was confirmed.
async fn confirmed_before_start(
    table: &LeaseTable,
    mut lease: Lease,
    heartbeat: Duration,
    acquired_started: Duration,
) -> Result<(Lease, Duration), Error> {
    if deadline::boot_clock().saturating_sub(acquired_started) < heartbeat {
        return Ok((lease, acquired_started));
    }
    let lapsed = |why: String| {
        Error::LeaseLost(format!(
            "the lease on {} could not be confirmed before the command started ({why}); nothing was started",
            table.lock_key()
        ))
    };
    // Twice at most: a renewal of ours that landed unanswered is adopted.
    for _ in 0..2 {
        let started = deadline::boot_clock();
        let renewal = tokio::time::timeout(heartbeat, table.renew(&mut lease, None, None));
        let Ok(answer) = renewal.await else {
            return Err(lapsed(format!(
                "no answer within {}",
                crate::duration::format(heartbeat)
            )));
        };
        match answer {
            Ok(Renew::Renewed) => return Ok((lease, started)),
            Ok(Renew::Adopted) => continue,
            Ok(Renew::Lost(found)) => return Err(lapsed(heartbeat::why_lost(found.as_deref()))),
            Err(e) => return Err(lapsed(e.error.to_string())),
        }
    }
    Err(lapsed(
        "renewals kept finding an earlier one of ours".into(),
    ))
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
