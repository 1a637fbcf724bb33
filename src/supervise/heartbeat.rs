//! The heartbeat: renews the lease every `heartbeat` while the child runs,
//! rides through failures shorter than the lease allows, and reports the
//! lease lost when it is taken from us or can no longer be confirmed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{oneshot, watch};
use tokio::time::{Instant, sleep_until, timeout};

use super::deadline::{Deadline, boot_clock};
use super::signals;
use crate::lock::{Lease, LeaseTable, Renew};
use crate::output::{Event, Reporter};

/// Why the lease is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost(pub String);

/// Where terraform's own lock item is, and how to recognise ours: it is
/// recorded in the lease once seen, so force-unlock can attribute it.
#[derive(Debug, Clone)]
pub struct NativeLock {
    pub table: String,
    pub lock_id: String,
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
    pub reporter: Reporter,
}

impl Heartbeat {
    /// Runs until `stop` fires (returns the lease as it stands, for release)
    /// or the lease is lost (reported once on `lost`, then returns).
    pub async fn run(
        mut self,
        mut stop: watch::Receiver<bool>,
        lost: oneshot::Sender<Lost>,
    ) -> Lease {
        let mut deadline =
            Deadline::new(self.lease.duration, self.heartbeat, self.acquired_started);
        let mut next = Instant::now() + self.heartbeat;
        let mut native_id: Option<String> = None;
        let mut native_recorded = false;
        // Without SIGCONT handling a resumed holder would wait out its timer.
        let mut resumed = signals::continued().ok();
        loop {
            tokio::select! {
                _ = sleep_until(next) => {}
                Some(()) = async { match resumed.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => {
                    self.reporter.detail("resumed: renewing the lease at once");
                }
                _ = stop.changed() => return self.lease,
            }
            let started = boot_clock();
            // Never wait on a renewal past the point where we must fence.
            let budget = deadline
                .time_to_fence(started)
                .max(Duration::from_millis(1));
            let record = native_id.as_deref().filter(|_| !native_recorded);
            let outcome = tokio::select! {
                r = timeout(budget, self.table.renew(&mut self.lease, record)) => r,
                _ = stop.changed() => return self.lease,
            };
            match outcome {
                Ok(Ok(Renew::Renewed)) => {
                    deadline.renewed(started);
                    native_recorded |= record.is_some();
                    next = Instant::now() + self.heartbeat;
                    if native_id.is_none() {
                        native_id = self.observe_native().await;
                    }
                }
                Ok(Ok(Renew::Lost(found))) => {
                    let reason = match found {
                        Some(r) if r.is_held() => {
                            format!("it is now held by {}", r.describe_holder())
                        }
                        Some(_) => "it was released by someone else (force-unlock?)".to_string(),
                        None => "the lease item was deleted (force-unlock?)".to_string(),
                    };
                    let _ = lost.send(Lost(reason));
                    return self.lease;
                }
                Ok(Err(e)) if e.transient => {
                    let now = boot_clock();
                    if deadline.must_fence(now) {
                        let _ = lost.send(Lost(format!(
                            "renewals failed until the lease could no longer be confirmed ({})",
                            e.error
                        )));
                        return self.lease;
                    }
                    self.reporter.event(Event::HeartbeatFailed {
                        lock_key: self.table.lock_key(),
                        error: &e.error.to_string(),
                        fence_in: deadline.time_to_fence(now),
                    });
                    next =
                        Instant::now() + deadline.retry_interval().min(deadline.time_to_fence(now));
                }
                Ok(Err(e)) => {
                    let _ = lost.send(Lost(format!(
                        "the lease can no longer be renewed: {}",
                        e.error
                    )));
                    return self.lease;
                }
                Err(_elapsed) => {
                    let _ = lost.send(Lost(
                        "renewals timed out until the lease could no longer be confirmed"
                            .to_string(),
                    ));
                    return self.lease;
                }
            }
        }
    }

    /// Looks for terraform's own lock item taken by our child: same
    /// `user@host`, created after we acquired (same machine, same clock).
    async fn observe_native(&self) -> Option<String> {
        let native = self.native.as_ref()?;
        let lock = self
            .table
            .read_terraform_lock(&native.table, &native.lock_id)
            .await
            .ok()??;
        let created = DateTime::parse_from_rfc3339(&lock.created).ok()?;
        let ours = lock.who == native.who
            && created.with_timezone(&Utc) >= native.acquired_at - chrono::Duration::seconds(1);
        (ours && !lock.id.is_empty()).then_some(lock.id)
    }
}
