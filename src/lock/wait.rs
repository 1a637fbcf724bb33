//! Taking the lease, and waiting for it in line (DESIGN §4, issues #2, #6).
//!
//! The line lives in the lease item: a waiter takes a ticket (`next_ticket`)
//! and keeps an entry `wait_<ticket>` with a heartbeat; the lock goes to the
//! ticket `serving`, which a release moves on by one. So waiters acquire in
//! the order they arrived, and nobody can barge in while anyone waits.
//!
//! - The first in line (the head) tries to take the lock about five times a
//!   second: each try is the conditional acquire itself, so when the holder
//!   releases, the head holds the lock within one try (about 100 ms later on
//!   average). Four times a lease, a try is a heartbeat instead, which shows
//!   the head alive to those behind it.
//! - Everyone else sends one heartbeat a second, whose answer is the whole
//!   item: who holds the lock, and who is ahead.
//! - A waiter who gives up leaves the line; one whose heartbeat stays
//!   unchanged for a full lease (+1 s, on the observer's own clock) is dead and
//!   removed by those behind it; `serving` is moved past tickets that nobody
//!   holds any more. So a waiter that gives up or dies is skipped within one
//!   lease.
//! - With `--lock-timeout 0` there is no line: one try, and 75 if held.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::table::{Acquire, CallError, Claim, Enqueue, Lease, LeaseTable, new_token};
use super::{LeaseRecord, observe};
use crate::duration;
use crate::error::Error;
use crate::holder::Holder;
use crate::output::{Event, Reporter};
use crate::supervise::deadline::boot_clock;
use crate::supervise::signals::Signals;

/// Between heartbeats of a waiter who is not first in line: one a second
/// (plus jitter), which is also how soon it learns that it has become first.
const POLL: Duration = Duration::from_secs(1);
const JITTER: Duration = Duration::from_millis(100);
/// Between tries of the first in line.
const HEAD_POLL: Duration = Duration::from_millis(200);
const HEAD_JITTER: Duration = Duration::from_millis(20);
/// The head shows it is alive (a heartbeat instead of a try) this often
/// within its lease: those behind it skip it only after a whole lease of
/// silence. Its tries' refusals already show it the item.
const HEAD_BEATS_PER_LEASE: u32 = 4;
/// Bound on each clean-up request after an interrupt or a failed wait.
const SETTLE: Duration = Duration::from_secs(5);
/// Steps past the timeout when the lock was found free with nobody in line
/// (see `timed_out`): passing given-up tickets, then the claim.
const EXTRA_STEPS: u32 = 2;
/// Tickets passed by one `advance`: its condition names each one, and
/// DynamoDB refuses an expression over 4 KB or 300 operators (about 110
/// tickets). A longer line of given-up tickets is passed in several steps.
const ADVANCE_SPAN: u64 = 50;

pub struct Acquired {
    pub lease: Lease,
    /// How long the lock was waited for: zero when it was free at once.
    pub waited: Duration,
    /// Boot-clock time at which the successful request was sent (or the
    /// earliest that may have written the lease).
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
    /// The state guard's baseline is wanted with the lease.
    pub baseline: bool,
}

/// One request of the waiting loop.
#[derive(Debug)]
enum Step {
    Claim(Claim),
    Enqueue(Option<u64>),
    Beat(u64),
    Advance { from: u64, to: u64 },
    Skip { ticket: u64, beat: String },
}

impl Step {
    /// Passes the tickets `from..to`, at most [`ADVANCE_SPAN`] of them.
    fn advance(from: u64, to: u64) -> Step {
        Step::Advance {
            from,
            to: to.min(from.saturating_add(ADVANCE_SPAN)),
        }
    }
}

/// What the waiting loop knows between requests.
struct Waiting<'a> {
    table: &'a LeaseTable,
    holder: &'a Holder,
    reporter: &'a Reporter,
    wait: &'a Wait,
    /// One token for every attempt of this wait: an attempt whose answer was
    /// lost is recognised by the next one as ours.
    token: String,
    start: Instant,
    /// Our place in line, once we have one.
    ticket: Option<u64>,
    /// The item as last seen.
    last: Option<LeaseRecord>,
    holder_watch: Watcher,
    waiter_watch: std::collections::HashMap<u64, (String, Instant)>,
    /// Boot-clock send time of the earliest claim since the last definite
    /// answer that may have landed unanswered.
    unanswered_since: Option<Duration>,
    /// Whether the lock was ever found held (or the line not empty).
    contended: bool,
    /// A takeover attempt whose outcome is not known yet.
    pending_takeover: Option<TookOver>,
    /// When we last sent a heartbeat.
    last_beat: Instant,
    /// Whether the lock timeout was found too short for a takeover.
    warned_takeover: bool,
    /// Whether a silent holder shown alive (or hidden) was reported.
    warned_not_taking_over: bool,
    display: Option<crate::output::WaitDisplay>,
    /// Steps taken past the timeout (see `timed_out`).
    extra_steps: u32,
    /// The last request was refused, with the item as found (not an error).
    refused: bool,
}

pub async fn acquire(
    table: &LeaseTable,
    holder: &Holder,
    wait: &Wait,
    signals: &mut Signals,
    reporter: &Reporter,
) -> Result<Acquired, Error> {
    let mut w = Waiting {
        table,
        holder,
        reporter,
        wait,
        token: new_token(),
        start: Instant::now(),
        ticket: None,
        last: None,
        holder_watch: Watcher::default(),
        waiter_watch: Default::default(),
        unanswered_since: None,
        contended: false,
        pending_takeover: None,
        last_beat: Instant::now(),
        warned_takeover: false,
        warned_not_taking_over: false,
        display: None,
        extra_steps: 0,
        refused: false,
    };
    let result = loop {
        let step = w.next_step();
        let started = boot_clock();
        let answer = {
            let request = w.send(&step);
            tokio::pin!(request);
            tokio::select! {
                r = &mut request => r,
                sig = signals.recv() => {
                    // Let the request answer (its own timeouts bound this), so
                    // we know whether it landed and can take it back.
                    reporter.detail("interrupted: waiting for the pending lock request to answer");
                    let answer = request.await;
                    if let (Step::Claim(_), Ok(Answer::Acquired(lease))) = (&step, &answer) {
                        // It landed: hand it straight back.
                        let _ = tokio::time::timeout(SETTLE, table.release(&lease.token, lease.ticket, lease.gc_at.is_set(), super::SeenUpdate::Keep, Default::default())).await;
                    }
                    let maybe = matches!(step, Step::Claim(_)) && !matches!(answer, Ok(Answer::Observed(_)));
                    break Err(w.interrupted(maybe, sig.signal()).await);
                }
            }
        };
        match w.absorb(&step, answer, started) {
            Ok(Some(acquired)) => break Ok(acquired),
            Ok(None) => {}
            Err(e) => break Err(e),
        }
        if let Some(err) = w.timed_out() {
            break Err(err);
        }
        let pause = w.pause(&step);
        if pause.is_zero() {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            sig = signals.recv() => break Err(w.interrupted(false, sig.signal()).await),
        }
    };
    if let Some(d) = w.display.take() {
        d.finish();
    }
    match &result {
        Ok(a) => reporter.event(Event::Acquired {
            lock_key: table.lock_key(),
            fence: a.lease.fence,
            waited: a.waited,
        }),
        Err(Error::Interrupted { .. }) => {}
        Err(_) => {
            if let Some(note) = w.clean_up(w.unanswered_since.is_some()).await {
                reporter.warn(&note);
            }
        }
    }
    result
}

/// What a request told us.
enum Answer {
    Acquired(Lease),
    /// The item as it is (or was when refused).
    Observed(Box<LeaseRecord>),
    /// Queued with this ticket.
    Queued(u64),
    /// Our line entry is gone (skipped as dead), or the item is.
    Dropped,
    /// A conditional step (advance, skip) did or did not apply.
    Done(bool),
}

impl Waiting<'_> {
    fn first_in_line(&self, t: u64) -> bool {
        match &self.last {
            None => true,
            Some(r) => {
                let serving = r.queue.serving.unwrap_or(0);
                // `serving` past our ticket: we were passed over (see absorb).
                serving <= t && r.queue.waiters.range(serving..t).next().is_none()
            }
        }
    }

    /// Decides the next request from what we know.
    fn next_step(&mut self) -> Step {
        let Some(t) = self.ticket else {
            // Not in line: the fast path first, then join the line, unless
            // the caller will not wait at all.
            return match &self.last {
                // Free, with tickets handed out that nobody holds any more
                // (waiters who left, an acquisition taken back): pass them,
                // then take the lock. Without this a run that does not wait
                // would be refused until some waiter came to move the line.
                Some(r) if !r.is_held() && !r.queue.is_empty() && r.queue.nobody_in_line() => {
                    Step::advance(
                        r.queue.serving.unwrap_or(0),
                        r.queue.next_ticket.unwrap_or(0),
                    )
                }
                Some(r) if self.wait.timeout > Duration::ZERO => {
                    if !r.is_held() && r.queue.is_empty() {
                        Step::Claim(Claim::Free)
                    } else {
                        Step::Enqueue(r.queue.next_ticket)
                    }
                }
                _ => Step::Claim(Claim::Free),
            };
        };
        let Some(r) = self.last.as_ref() else {
            return Step::Beat(t);
        };
        let serving = r.queue.serving.unwrap_or(0);
        if serving > t {
            // Passed over (absorb rejoins us); never a range that runs backwards.
            return Step::Beat(t);
        }
        // Someone ahead silent for a full lease is dead: take them out.
        for (&ticket, waiter) in r.queue.waiters.range(serving..t) {
            if let Some((beat, since)) = self.waiter_watch.get(&ticket)
                && *beat == waiter.beat
                && since.elapsed()
                    >= observe::MARGIN + self.wait.lease.max(waiter.lease.unwrap_or_default())
            {
                return Step::Skip {
                    ticket,
                    beat: beat.clone(),
                };
            }
        }
        if !self.first_in_line(t) {
            return Step::Beat(t);
        }
        if !r.is_held() {
            // Free: move the turn past tickets nobody holds, then take it.
            return if serving < t {
                Step::advance(serving, t)
            } else {
                Step::Claim(Claim::Turn { ticket: t })
            };
        }
        if self.wait.takeover && self.holder_watch.unchanged_for() >= observe::required_silence(r) {
            if let Some(life) = observe::life_here(r) {
                // Once as a warning (a CI log shows why the wait ends in a
                // timeout), then at each look in detail.
                let why = format!(
                    "not taking over {}, silent for {}: {}",
                    r.describe_holder(),
                    duration::format(self.holder_watch.unchanged_for()),
                    life.why()
                );
                if std::mem::replace(&mut self.warned_not_taking_over, true) {
                    self.reporter.detail(&why);
                } else {
                    self.reporter.warn(&why);
                }
            } else {
                self.reporter.warn(&format!(
                    "the holder of {}, {}, has not renewed its lease for {}: taking it over",
                    self.table.lock_key(),
                    r.describe_holder(),
                    duration::format(self.holder_watch.unchanged_for())
                ));
                self.pending_takeover = Some(TookOver {
                    previous: r.clone(),
                    observed: self.holder_watch.unchanged_for(),
                });
                return Step::Claim(Claim::Stale {
                    owner_token: r.owner_token.clone(),
                    rvn: r.rvn.clone(),
                    ticket: t,
                });
            }
        }
        if self.last_beat.elapsed() >= self.wait.lease / HEAD_BEATS_PER_LEASE {
            Step::Beat(t)
        } else {
            Step::Claim(Claim::Turn { ticket: t })
        }
    }

    async fn send(&self, step: &Step) -> Result<Answer, CallError> {
        tracing::debug!(target: "tflock::wait", "{step:?}");
        let t = self.table;
        Ok(match step {
            Step::Claim(claim) => {
                match t
                    .claim(
                        self.holder,
                        self.wait.lease,
                        &self.token,
                        claim,
                        self.wait.baseline,
                    )
                    .await?
                {
                    Acquire::Acquired(lease) => Answer::Acquired(lease),
                    Acquire::Held(r) => Answer::Observed(r),
                }
            }
            Step::Enqueue(expected) => {
                match t
                    .enqueue(
                        *expected,
                        self.holder,
                        self.wait.lease,
                        &self.token,
                        &new_token(),
                    )
                    .await?
                {
                    Enqueue::Queued(ticket) => Answer::Queued(ticket),
                    Enqueue::Raced(r) => Answer::Observed(r),
                    Enqueue::Gone => Answer::Dropped,
                }
            }
            Step::Beat(ticket) => match t.beat(*ticket, &new_token()).await? {
                Some(r) => Answer::Observed(Box::new(r)),
                None => Answer::Dropped,
            },
            Step::Advance { from, to } => Answer::Done(t.advance(*from, *to).await?),
            Step::Skip { ticket, beat } => {
                let skipped = t.skip(*ticket, beat).await?;
                if skipped {
                    self.reporter.warn(&format!(
                        "removed a waiter (ticket {ticket}) silent for over a lease from the line of {}",
                        t.lock_key()
                    ));
                }
                Answer::Done(skipped)
            }
        })
    }

    /// Takes in an answer. `Some` when the lock is ours.
    fn absorb(
        &mut self,
        step: &Step,
        answer: Result<Answer, CallError>,
        started: Duration,
    ) -> Result<Option<Acquired>, Error> {
        let is_claim = matches!(step, Step::Claim(_));
        self.refused = matches!(answer, Ok(Answer::Observed(_)));
        match answer {
            Ok(Answer::Acquired(lease)) => {
                return Ok(Some(Acquired {
                    lease,
                    waited: if self.contended {
                        self.start.elapsed()
                    } else {
                        Duration::ZERO
                    },
                    started: self.unanswered_since.map_or(started, |t| t.min(started)),
                    took_over: self.pending_takeover.take(),
                }));
            }
            Ok(Answer::Observed(r)) => {
                if matches!(step, Step::Beat(_)) {
                    self.last_beat = Instant::now();
                }
                if is_claim {
                    self.unanswered_since = None;
                    self.pending_takeover = None;
                }
                self.observe(*r);
                if let (Some(t), Some(r)) = (self.ticket, &self.last)
                    && r.queue.serving.unwrap_or(0) > t
                {
                    // The turn went past our ticket: those behind us found us
                    // silent for a lease (a suspended laptop, requests that
                    // kept failing) and removed us from the line.
                    self.reporter.warn(&format!(
                        "our place in line for {} (ticket {t}) was passed over after a long silence; joining again at the back",
                        self.table.lock_key()
                    ));
                    self.ticket = None;
                }
            }
            Ok(Answer::Queued(ticket)) => {
                self.last_beat = Instant::now();
                self.ticket = Some(ticket);
                self.reporter.detail(&format!(
                    "in line for {} with ticket {ticket}",
                    self.table.lock_key()
                ));
            }
            Ok(Answer::Dropped) => {
                if let Some(t) = self.ticket.take() {
                    self.reporter.warn(&format!(
                        "our place in line for {} (ticket {t}) was given up after a long silence; joining again at the back",
                        self.table.lock_key()
                    ));
                }
                self.last = None;
            }
            // Applied: what we know changed accordingly. Not applied: what we
            // know is out of date; the next step looks again.
            Ok(Answer::Done(applied)) => match (step, self.last.as_mut()) {
                (Step::Advance { to, .. }, Some(r)) if applied => {
                    r.queue.serving = Some(*to);
                    // Progress through a long line of given-up tickets does
                    // not use up the steps allowed past the timeout (each
                    // pass moves `serving` on: there are finitely many).
                    self.extra_steps = self.extra_steps.saturating_sub(1);
                }
                (Step::Skip { ticket, .. }, Some(r)) if applied => {
                    r.queue.waiters.remove(ticket);
                }
                _ => self.last = None,
            },
            Err(CallError {
                error,
                transient,
                may_have_landed,
            }) => {
                if may_have_landed && is_claim {
                    self.unanswered_since.get_or_insert(started);
                }
                if !transient || self.start.elapsed() >= self.wait.timeout {
                    return Err(error);
                }
                self.reporter.warn(&format!("{error}; retrying"));
            }
        }
        Ok(None)
    }

    /// Updates what we know from the item.
    fn observe(&mut self, r: LeaseRecord) {
        if self.wait.takeover
            && !self.warned_takeover
            && r.is_held()
            && self.wait.timeout < observe::required_silence(&r)
        {
            self.warned_takeover = true;
            self.reporter.warn(&format!(
                "--takeover-stale can only take over a holder silent for its whole lease ({}) + 1s: \
                 with --lock-timeout {} it never will",
                duration::format(r.lease),
                duration::format(self.wait.timeout)
            ));
        }
        if r.is_held() || !r.queue.is_empty() {
            self.contended = true;
        }
        // Our own entry after a lost answer to joining the line.
        if self.ticket.is_none()
            && let Some((&t, _)) = r.queue.waiters.iter().find(|(_, w)| w.token == self.token)
        {
            self.ticket = Some(t);
        }
        let now = Instant::now();
        self.waiter_watch
            .retain(|t, _| r.queue.waiters.contains_key(t));
        for (&t, waiter) in &r.queue.waiters {
            match self.waiter_watch.get(&t) {
                Some((beat, _)) if *beat == waiter.beat => {}
                _ => {
                    self.waiter_watch.insert(t, (waiter.beat.clone(), now));
                }
            }
        }
        let description = self.describe(&r);
        if self.wait.timeout > Duration::ZERO {
            let waited = self.start.elapsed();
            let (table, reporter) = (self.table, self.reporter);
            self.display
                .get_or_insert_with(|| reporter.wait_display(table.lock_key()))
                .update(
                    r.is_held().then_some((r.holder.as_str(), r.fence)),
                    &description,
                    waited,
                );
        }
        self.last = Some(r);
    }

    fn describe(&mut self, r: &LeaseRecord) -> String {
        let ahead = match self.ticket {
            Some(t) => r.queue.waiters.range(..t).count(),
            None => r.queue.waiters.len(),
        };
        let line = match ahead {
            0 => String::new(),
            1 => "; 1 waiter ahead".to_string(),
            n => format!("; {n} waiters ahead"),
        };
        if r.is_held() {
            format!("{}{line}", self.holder_watch.describe(r))
        } else {
            format!("nobody (handing over){line}")
        }
    }

    /// `LockHeld` once the wait has lasted its timeout.
    fn timed_out(&mut self) -> Option<Error> {
        if self.start.elapsed() < self.wait.timeout {
            return None;
        }
        // Past the timeout (at once, for a run that does not wait) but the
        // lock was found free with nobody in line: a few more steps (pass
        // the given-up tickets, claim) may take it. Bounded: a race lost to
        // another taker ends the wait as usual.
        if self.ticket.is_none()
            && self.extra_steps < EXTRA_STEPS
            && self
                .last
                .as_ref()
                .is_some_and(|r| !r.is_held() && r.queue.nobody_in_line())
        {
            self.extra_steps += 1;
            return None;
        }
        let holder = match self.last.clone() {
            Some(r) if !r.is_held() && self.wait.timeout.is_zero() => format!(
                "{}: it goes to the next in line; wait for your turn with --lock-timeout \
                 (a waiter silent for a lease is removed by those waiting behind it)",
                self.describe(&r)
            ),
            Some(r) => self.describe(&r),
            None => "someone".to_string(),
        };
        Some(Error::LockHeld {
            lock_key: self.table.lock_key().to_string(),
            holder,
            waited: if self.wait.timeout.is_zero() {
                Duration::ZERO
            } else {
                self.start.elapsed()
            },
        })
    }

    fn pause(&self, step: &Step) -> Duration {
        match step {
            // Joined the line, or moved things along: act on it at once.
            Step::Enqueue(_) | Step::Advance { .. } | Step::Skip { .. } => Duration::ZERO,
            // Refused on arrival: join the line at once. (A pause here let
            // whoever arrived within the next second get ahead, and a
            // release meanwhile went to nobody.)
            Step::Claim(Claim::Free) if self.ticket.is_none() && self.refused => Duration::ZERO,
            _ if self.ticket.is_some_and(|t| self.first_in_line(t)) => {
                HEAD_POLL - HEAD_JITTER + jitter(HEAD_JITTER * 2)
            }
            _ => POLL + jitter(JITTER),
        }
        .min(self.wait.timeout.saturating_sub(self.start.elapsed()))
    }

    /// Leaves the line and takes back a claim that may have landed. Returns
    /// a warning when it cannot confirm that nothing of ours is left.
    async fn clean_up(&self, maybe_landed: bool) -> Option<String> {
        if let Some(t) = self.ticket {
            let _ = tokio::time::timeout(SETTLE, self.table.leave(t)).await;
        }
        if maybe_landed {
            take_back(self.table, &self.token).await
        } else {
            None
        }
    }

    async fn interrupted(&self, maybe_landed: bool, sig: nix::sys::signal::Signal) -> Error {
        let left_behind = self
            .clean_up(maybe_landed || self.unanswered_since.is_some())
            .await;
        Error::Interrupted {
            signal: sig as i32,
            name: sig.as_str(),
            left_behind,
            waited: self.start.elapsed(),
            contended: self.contended,
        }
    }
}

/// Removes a lease our attempts may have written without our seeing the
/// answer. Conditional on our token, so it changes nothing otherwise. Returns
/// a warning when it cannot confirm that nothing of ours is left.
async fn take_back(table: &LeaseTable, token: &str) -> Option<String> {
    let released = tokio::time::timeout(
        SETTLE,
        // Which of our writes landed is unknown: a takeover sets gc_at.
        table.release(
            token,
            None,
            true,
            super::SeenUpdate::Keep,
            Default::default(),
        ),
    )
    .await;
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

fn jitter(max: Duration) -> Duration {
    let r = uuid::Uuid::new_v4().as_u128() as u64;
    Duration::from_millis(r % (max.as_millis() as u64).max(1))
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
