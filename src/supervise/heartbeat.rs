//! The heartbeat: renews the lease every `heartbeat` while the child runs,
//! rides through failures shorter than the lease allows, and reports the
//! lease lost when it is taken from us or can no longer be confirmed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{oneshot, watch};
use tokio::time::{sleep, timeout};

use super::deadline::{Deadline, boot_clock};
use super::signals;
use crate::lock::{Lease, LeaseTable, Renew};
use crate::output::{Event, Reporter};

/// The longest the heartbeat sleeps without looking at the boot clock.
const WAKE: Duration = Duration::from_secs(1);
/// Bound on one look for terraform's own lock item.
const NATIVE_LOOK: Duration = Duration::from_secs(2);
/// How many looks before giving up (`tflock run` commands that never take
/// terraform's lock must not read it every second for hours).
const NATIVE_LOOKS: u32 = 30;

/// What a refused renewal found instead of our lease.
pub fn why_lost(found: Option<&crate::lock::LeaseRecord>) -> String {
    match found {
        Some(r) if r.is_held() => format!("it is now held by {}", r.describe_holder()),
        Some(_) => "it was released by someone else (force-unlock?)".to_string(),
        None => "the lease item was deleted (force-unlock?)".to_string(),
    }
}

/// Why the lease is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost(pub String);

/// Where terraform's own lock is (the DynamoDB item, or else the S3
/// lockfile), and how to recognise ours: its ID is recorded in the lease once
/// seen, so force-unlock can attribute it.
#[derive(Debug, Clone)]
pub struct NativeLock {
    /// (table, LockID) of terraform's DynamoDB lock item.
    pub item: Option<(String, String)>,
    /// The S3 client and (bucket, key) of terraform's lockfile.
    pub file: Option<(crate::aws::S3, String, String)>,
    pub who: String,
    pub acquired_at: DateTime<Utc>,
}

pub struct Heartbeat {
    pub table: LeaseTable,
    pub lease: Lease,
    pub heartbeat: Duration,
    /// Boot-clock time at which the acquiring request was sent.
    pub acquired_started: Duration,
    pub native: Option<NativeLock>,
    /// The command as a process (`process::describe`), recorded in the
    /// lease by the first renewal: proof of life any user can check.
    pub command: Option<String>,
    pub reporter: Reporter,
}

impl Heartbeat {
    /// Runs until `stop` fires (returns the lease as it stands, for release)
    /// or the lease is lost (reported once on `lost`, then returns).
    ///
    /// Fencing does not end the heartbeat: while the interrupted command
    /// stops (terraform's graceful stop can take minutes), renewals go on, and
    /// one that succeeds keeps the lease ours (its condition on our RVN proves
    /// nobody took it), so nobody can prove it stale and take over while our
    /// command still runs. Only a refused renewal ends it.
    pub async fn run(
        mut self,
        mut stop: watch::Receiver<bool>,
        lost: oneshot::Sender<Lost>,
    ) -> Lease {
        let mut lost = Some(lost);
        let mut fence = |why: String| {
            if let Some(tx) = lost.take() {
                let _ = tx.send(Lost(why));
            }
        };
        let mut deadline =
            Deadline::new(self.lease.duration, self.heartbeat, self.acquired_started);
        // When the next renewal is due, on the boot clock.
        let mut due = self.acquired_started + self.heartbeat;
        let mut native_id: Option<String> = None;
        let mut native_recorded = false;
        let mut command_recorded = false;
        let mut native_looks = 0u32;
        // Without SIGCONT handling a resumed holder would wait out its timer.
        let mut resumed = signals::continued().ok();
        loop {
            let now = boot_clock();
            if now < due {
                // tokio's timers run on the monotonic clock, which stops while
                // the machine sleeps: wake at least every second and compare
                // with the boot clock, so a resumed laptop renews at once.
                let nap = (due - now).min(WAKE);
                tokio::select! {
                    _ = sleep(nap) => {
                        // Until terraform's own lock has been seen, look for it
                        // every second (a read), so that its ID is known by the
                        // first renewal, which records it in the lease. Bounded,
                        // and abandoned if the run ends: it must never delay a
                        // renewal or the release.
                        // At most half a heartbeat past the next renewal
                        // (the slack a renewal itself is given): with a short
                        // lease a slow look must not eat the margin before
                        // the fence.
                        let room = NATIVE_LOOK
                            .min(due.saturating_sub(boot_clock()).max(self.heartbeat / 2));
                        if native_id.is_none() && native_looks < NATIVE_LOOKS {
                            native_looks += 1;
                            let look = timeout(room, self.observe_native());
                            tokio::select! {
                                found = look => native_id = found.ok().flatten(),
                                _ = stop.changed() => return self.lease,
                            }
                        }
                        continue;
                    }
                    Some(()) = async { match resumed.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => {
                        self.reporter.detail("resumed: renewing the lease at once");
                    }
                    _ = stop.changed() => return self.lease,
                }
            }
            let started = boot_clock();
            // Never wait on a renewal long past the fencing point; but a
            // renewal is always given a fair chance (after a pause the point
            // may already be behind us), because one that succeeds proves,
            // by its condition on our RVN, that nobody took the lease.
            let budget = deadline.time_to_fence(started).max(self.heartbeat / 2);
            let record = native_id.as_deref().filter(|_| !native_recorded);
            let command = self.command.as_deref().filter(|_| !command_recorded);
            let outcome = tokio::select! {
                r = timeout(budget, self.table.renew(&mut self.lease, record, command)) => r,
                // The machine slept with the renewal in flight: its timeout
                // (monotonic, stopped meanwhile) could keep us waiting on a
                // dead connection for the whole budget after the resume.
                // Renew again at once (a renewal that landed unanswered is
                // adopted by the next one's refusal).
                _ = slept_through(budget) => {
                    self.reporter.detail("the machine slept through a renewal: renewing the lease again at once");
                    due = boot_clock();
                    continue;
                }
                _ = stop.changed() => return self.lease,
            };
            match outcome {
                Ok(Ok(Renew::Renewed)) => {
                    deadline.renewed(started);
                    native_recorded |= record.is_some();
                    command_recorded |= command.is_some();
                    due = started + self.heartbeat;
                }
                Ok(Ok(Renew::Adopted)) => due = boot_clock(),
                Ok(Ok(Renew::Lost(found))) => {
                    fence(why_lost(found.as_deref()));
                    return self.lease;
                }
                // Any failure, whatever the error, is retried until the
                // fencing point (DESIGN §4): a credential provider that
                // failed once (an instance-metadata timeout, an SSO refresh)
                // may answer the next time, and the lease is still ours
                // until then. An error that persists fences at the deadline,
                // like an outage, and renewals go on while the command stops.
                failed => {
                    let why = match failed {
                        Ok(Err(e)) => e.error.to_string(),
                        _ => format!("no answer within {}", crate::duration::format(budget)),
                    };
                    let now = boot_clock();
                    if deadline.must_fence(now) {
                        fence(format!(
                            "renewals failed until the lease could no longer be confirmed ({why})"
                        ));
                    } else {
                        self.reporter.event(Event::HeartbeatFailed {
                            lock_key: self.table.lock_key(),
                            error: &why,
                            fence_in: deadline.time_to_fence(now),
                        });
                    }
                    let wait = deadline.time_to_fence(now);
                    due = now
                        + deadline.retry_interval().min(if wait.is_zero() {
                            deadline.retry_interval()
                        } else {
                            wait
                        });
                }
            }
        }
    }

    /// Looks for terraform's own lock item taken by our child: same
    /// `user@host`, created after we acquired (same machine, same clock).
    async fn observe_native(&self) -> Option<String> {
        let native = self.native.as_ref()?;
        let lock = match (&native.item, &native.file) {
            (Some((table, id)), _) => self.table.read_terraform_lock(table, id).await.ok()??,
            (None, Some((s3, bucket, key))) => {
                crate::lock::lockfile::read(s3, bucket, key)
                    .await
                    .ok()??
                    .lock
            }
            (None, None) => return None,
        };
        let created = DateTime::parse_from_rfc3339(&lock.created).ok()?;
        let ours = lock.who == native.who
            && created.with_timezone(&Utc) >= native.acquired_at - chrono::Duration::seconds(1);
        (ours && !lock.id.is_empty()).then_some(lock.id)
    }
}

/// Ends once the machine has been suspended (the boot clock, which counts
/// suspended time, ahead of the monotonic one by over [`WAKE`]) and, on the
/// boot clock, `budget` has passed: the renewal's own timeout would wait the
/// budget out again after the resume. Never without a suspend: both clocks
/// then run together, and the monotonic timeout ends the renewal first.
async fn slept_through(budget: Duration) {
    let (boot_start, mono_start) = (boot_clock(), std::time::Instant::now());
    loop {
        sleep(WAKE).await;
        let boot = boot_clock().saturating_sub(boot_start);
        if boot >= budget && boot.saturating_sub(mono_start.elapsed()) >= WAKE {
            return;
        }
    }
}
