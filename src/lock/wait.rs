//! Taking the lease, waiting for it when held (DESIGN §4, issue #2):
//! at most one attempt a second, with jitter; Ctrl-C ends the wait at once
//! and leaves nothing behind.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::LeaseRecord;
use super::table::{Acquire, CallError, Lease, LeaseTable, new_token};
use crate::duration;
use crate::error::Error;
use crate::holder::Holder;
use crate::output::{Event, Reporter};
use crate::supervise::deadline::boot_clock;
use crate::supervise::signals::Signals;

const POLL: Duration = Duration::from_secs(1);
const JITTER_MS: u64 = 250;
/// After an interrupt, how long an in-flight attempt may take to answer, so we
/// learn whether it landed (and then release it).
const SETTLE: Duration = Duration::from_secs(2);

pub struct Acquired {
    pub lease: Lease,
    pub waited: Duration,
    /// Boot-clock time at which the successful request was sent.
    pub started: Duration,
}

pub async fn acquire(
    table: &LeaseTable,
    holder: &Holder,
    lease: Duration,
    timeout: Duration,
    signals: &mut Signals,
    reporter: &Reporter,
) -> Result<Acquired, Error> {
    // One token for every attempt of this wait: an attempt whose response was
    // lost is recognised by the next one as ours.
    let token = new_token();
    let start = Instant::now();
    let mut display: Option<crate::output::WaitDisplay> = None;
    let mut watcher = Watcher::default();
    // Whether an attempt may have written the item without us seeing it.
    let mut maybe_landed = false;
    let result = loop {
        let started = boot_clock();
        let attempt = table.acquire(holder, lease, &token);
        tokio::pin!(attempt);
        let outcome = tokio::select! {
            r = &mut attempt => r,
            sig = signals.recv() => {
                // Let the attempt answer, so that we know whether it landed.
                let landed = !matches!(tokio::time::timeout(SETTLE, &mut attempt).await, Ok(Ok(Acquire::Held(_))));
                break Err(interrupted(table, &token, landed || maybe_landed, sig.signal()).await);
            }
        };
        match outcome {
            Ok(Acquire::Acquired(lease)) => {
                break Ok(Acquired {
                    lease,
                    waited: start.elapsed(),
                    started,
                });
            }
            Ok(Acquire::Held(record)) => {
                let waited = start.elapsed();
                let description = watcher.describe(&record);
                if waited >= timeout {
                    break Err(Error::LockHeld {
                        lock_key: table.lock_key().to_string(),
                        holder: description,
                        waited: if timeout.is_zero() {
                            Duration::ZERO
                        } else {
                            waited
                        },
                    });
                }
                display
                    .get_or_insert_with(|| reporter.wait_display(table.lock_key()))
                    .update(&description, waited);
            }
            Err(CallError { error, transient }) => {
                maybe_landed = true;
                if !transient || start.elapsed() >= timeout {
                    break Err(error);
                }
                reporter.warn(&format!("{error}; retrying"));
            }
        }
        let remaining = timeout.saturating_sub(start.elapsed());
        let pause = (POLL + jitter()).min(remaining);
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            sig = signals.recv() => break Err(interrupted(table, &token, maybe_landed, sig.signal()).await),
        }
    };
    if let Some(d) = display {
        d.finish();
    }
    if let Ok(a) = &result {
        reporter.event(Event::Acquired {
            lock_key: table.lock_key(),
            fence: a.lease.fence,
            waited: if a.waited < POLL {
                Duration::ZERO
            } else {
                a.waited
            },
        });
    }
    result
}

async fn interrupted(
    table: &LeaseTable,
    token: &str,
    maybe_landed: bool,
    sig: nix::sys::signal::Signal,
) -> Error {
    if maybe_landed {
        // Conditional on our token: changes nothing unless the write landed.
        let _ = tokio::time::timeout(SETTLE, table.release(token)).await;
    }
    Error::Interrupted {
        signal: sig as i32,
        name: sig.as_str(),
    }
}

fn jitter() -> Duration {
    let r = uuid::Uuid::new_v4().as_u128() as u64;
    Duration::from_millis(r % JITTER_MS)
}

/// Tracks the holder's heartbeats as seen from here: when its RVN last
/// changed, on our own clock (the holder's wall clock may be off).
#[derive(Default)]
struct Watcher {
    rvn: Option<String>,
    changed: Option<Instant>,
}

impl Watcher {
    /// "alice@laptop (apply, pid 42), held for 2m13s, last heartbeat 3s ago".
    fn describe(&mut self, record: &LeaseRecord) -> String {
        if self.rvn.as_deref() != Some(record.rvn.as_str()) {
            // The first sighting is not a heartbeat we saw happen.
            if self.rvn.is_some() {
                self.changed = Some(Instant::now());
            }
            self.rvn = Some(record.rvn.clone());
        }
        let held = (Utc::now() - record.acquired_at)
            .to_std()
            .unwrap_or_default();
        let last = match (self.changed, record.renewed_at) {
            (Some(t), _) => format!("last heartbeat {} ago", duration::format(t.elapsed())),
            (None, Some(t)) => format!(
                "last heartbeat {} ago",
                duration::format((Utc::now() - t).to_std().unwrap_or_default())
            ),
            (None, None) => "no heartbeat seen yet".to_string(),
        };
        format!(
            "{}, held for {}, {last}",
            record.describe_holder(),
            duration::format(held)
        )
    }
}
