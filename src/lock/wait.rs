//! Taking the lease, waiting for it when held (DESIGN §4, issue #2):
//! at most one attempt a second, with jitter; Ctrl-C ends the wait at once
//! and leaves nothing behind.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::table::{Acquire, CallError, Claim, Lease, LeaseTable, new_token};
use super::{LeaseRecord, observe};
use crate::duration;
use crate::error::Error;
use crate::holder::Holder;
use crate::output::{Event, Reporter};
use crate::supervise::deadline::boot_clock;
use crate::supervise::signals::Signals;

const POLL: Duration = Duration::from_secs(1);
const JITTER_MS: u64 = 250;
/// Bound on each clean-up request after an interrupt or a failed wait.
const SETTLE: Duration = Duration::from_secs(5);

pub struct Acquired {
    pub lease: Lease,
    /// How long the lock was waited for: zero when it was free at once.
    pub waited: Duration,
    /// Boot-clock time at which the successful request was sent.
    pub started: Duration,
    /// Set when the lease was taken over from a holder proved dead.
    pub took_over: Option<TookOver>,
}

/// A stale lease taken over (`--takeover-stale`).
pub struct TookOver {
    /// The dead holder's lease as observed.
    pub previous: LeaseRecord,
    /// How long its RVN was seen unchanged.
    pub observed: Duration,
}

/// How to wait.
pub struct Wait {
    pub lease: Duration,
    pub timeout: Duration,
    /// Take over a lease proved stale by observation (`--takeover-stale`).
    pub takeover: bool,
}

pub async fn acquire(
    table: &LeaseTable,
    holder: &Holder,
    wait: &Wait,
    signals: &mut Signals,
    reporter: &Reporter,
) -> Result<Acquired, Error> {
    let Wait {
        lease,
        timeout,
        takeover,
    } = *wait;
    // One token for every attempt of this wait: an attempt whose response was
    // lost is recognised by the next one as ours.
    let token = new_token();
    let start = Instant::now();
    let mut display: Option<crate::output::WaitDisplay> = None;
    let mut watcher = Watcher::default();
    // Boot-clock send time of the earliest attempt since the last definite
    // answer: an attempt that failed may still have landed, and if a later
    // attempt finds our own token, the lease dates from that earlier write.
    let mut unanswered_since: Option<Duration> = None;
    // Whether the lock was ever found held during this wait.
    let mut contended = false;
    // Set when the holder has been silent long enough to take over.
    let mut claim = Claim::Free;
    // A takeover attempt whose outcome is not yet known.
    let mut pending_takeover: Option<TookOver> = None;
    let result = loop {
        let started = boot_clock();
        // The claim for this attempt; a takeover decision below sets the next.
        let current = std::mem::replace(&mut claim, Claim::Free);
        let attempt = table.claim(holder, lease, &token, &current);
        tokio::pin!(attempt);
        let outcome = tokio::select! {
            r = &mut attempt => r,
            sig = signals.recv() => {
                // Let the attempt answer (its own timeouts bound this), so we
                // know whether it landed and can take it back.
                reporter.detail("interrupted: waiting for the pending lock request to answer");
                let landed = !matches!(attempt.await, Ok(Acquire::Held(_)));
                break Err(interrupted(table, &token, landed || unanswered_since.is_some(), sig.signal()).await);
            }
        };
        match outcome {
            Ok(Acquire::Acquired(lease)) => {
                break Ok(Acquired {
                    lease,
                    waited: if contended {
                        start.elapsed()
                    } else {
                        Duration::ZERO
                    },
                    started: unanswered_since.map_or(started, |t| t.min(started)),
                    took_over: pending_takeover.take(),
                });
            }
            Ok(Acquire::Held(record)) => {
                contended = true;
                unanswered_since = None;
                pending_takeover = None;
                let waited = start.elapsed();
                let description = watcher.describe(&record);
                if takeover && record.is_held() {
                    let silent = watcher.unchanged_for();
                    if silent >= observe::required_silence(&record) {
                        if let Some(why) = observe::alive_here(&record) {
                            reporter.detail(&format!("not taking over: {why}"));
                        } else {
                            // Try at once, conditional on exactly what we observed.
                            claim = Claim::Stale {
                                owner_token: record.owner_token.clone(),
                                rvn: record.rvn.clone(),
                            };
                            reporter.warn(&format!(
                                "the holder of {}, {}, has not renewed its lease for {}: taking it over",
                                table.lock_key(),
                                record.describe_holder(),
                                duration::format(silent)
                            ));
                            pending_takeover = Some(TookOver {
                                previous: record,
                                observed: silent,
                            });
                            continue;
                        }
                    }
                }
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
            Err(CallError {
                error,
                transient,
                may_have_landed,
            }) => {
                if may_have_landed {
                    unanswered_since.get_or_insert(started);
                }
                if !transient || start.elapsed() >= timeout {
                    break Err(error);
                }
                reporter.warn(&format!("{error}; retrying"));
                // The stale claim may have landed: keep retrying it.
                if let Some(t) = &pending_takeover {
                    claim = Claim::Stale {
                        owner_token: t.previous.owner_token.clone(),
                        rvn: t.previous.rvn.clone(),
                    };
                }
            }
        }
        let remaining = timeout.saturating_sub(start.elapsed());
        let pause = (POLL + jitter()).min(remaining);
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            sig = signals.recv() => break Err(interrupted(table, &token, unanswered_since.is_some(), sig.signal()).await),
        }
    };
    if let Some(d) = display {
        d.finish();
    }
    match &result {
        Ok(a) => reporter.event(Event::Acquired {
            lock_key: table.lock_key(),
            fence: a.lease.fence,
            waited: a.waited,
        }),
        // Giving up after a failed attempt that may have landed: take it back.
        Err(e) if unanswered_since.is_some() && !matches!(e, Error::Interrupted { .. }) => {
            if let Some(note) = take_back(table, &token).await {
                reporter.warn(&note);
            }
        }
        Err(_) => {}
    }
    result
}

/// Removes a lease our attempts may have written without our seeing the
/// answer. Conditional on our token, so it changes nothing otherwise. Returns
/// a warning when it cannot confirm that nothing of ours is left.
async fn take_back(table: &LeaseTable, token: &str) -> Option<String> {
    let released = tokio::time::timeout(SETTLE, table.release(token)).await;
    let confirmed = matches!(released, Ok(Ok(_)))
        && matches!(
            tokio::time::timeout(SETTLE, table.read()).await,
            Ok(Ok(r)) if r.as_ref().is_none_or(|r| r.owner_token != token || !r.is_held())
        );
    (!confirmed).then(|| {
        format!(
            "a lock request of ours may have landed unanswered and could not be taken back: \
             if `tflock status` shows lock {} held with token {token}, nobody is renewing it; \
             `tflock force-unlock {token}` removes it",
            table.lock_key()
        )
    })
}

async fn interrupted(
    table: &LeaseTable,
    token: &str,
    maybe_landed: bool,
    sig: nix::sys::signal::Signal,
) -> Error {
    let left_behind = if maybe_landed {
        take_back(table, token).await
    } else {
        None
    };
    Error::Interrupted {
        signal: sig as i32,
        name: sig.as_str(),
        left_behind,
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
    /// When we first saw the current RVN.
    seen: Option<Instant>,
    changed: Option<Instant>,
}

impl Watcher {
    /// How long the current RVN has been seen unchanged (a lower bound on
    /// the holder's silence, on our own monotonic clock).
    fn unchanged_for(&self) -> Duration {
        self.seen.map(|t| t.elapsed()).unwrap_or_default()
    }

    /// "alice@laptop (apply, pid 42), held for 2m13s, last heartbeat 3s ago".
    fn describe(&mut self, record: &LeaseRecord) -> String {
        if self.rvn.as_deref() != Some(record.rvn.as_str()) {
            // The first sighting is not a heartbeat we saw happen.
            if self.rvn.is_some() {
                self.changed = Some(Instant::now());
            }
            self.rvn = Some(record.rvn.clone());
            self.seen = Some(Instant::now());
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
