//! A command under the lease: resolve, acquire (waiting if asked), supervise,
//! release. The path of every guarded terraform command and of `tflock run`.

use std::ffi::OsString;
use std::io::IsTerminal;

use chrono::Utc;

use super::runtime;
use super::state_guard::StateGuard;
use crate::aws;
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::history::{self, Event, History, Kind};
use crate::holder::Holder;
use crate::lock::{LeaseTable, SeenUpdate, wait};
use crate::output::Reporter;
use crate::settings::{Target, Timing, process_env};
use crate::supervise::{
    self, Outcome, child, heartbeat::NativeLock, signals::Signals, terminal::Terminal,
};
use crate::supervise::{Released, RunRecord};

/// How long an uncontended acquisition may take for the state read sent
/// beside it to stand for the state at the acquisition (one request takes
/// milliseconds; longer means retries, during which anyone may have
/// written the state).
const EARLY_READ_STANDS: std::time::Duration = std::time::Duration::from_secs(1);

/// What a state read given up before the command means.
const NOT_CHECKED: &str = "not checked for writes outside the lock (with --strict and a \
                           remembered state: not running)";

/// Set in the child's environment when TFLOCK_LOCK_KEY there is tflock's
/// report of the lock rather than a value the user exported.
pub const INHERITED_MARKER: &str = "TFLOCK_LOCK_KEY_INHERITED";

pub struct Guarded {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// "apply", "state mv", "run: terragrunt".
    pub operation: String,
    /// terraform's `-lock-timeout` among the child's arguments.
    pub child_lock_timeout: Option<std::time::Duration>,
    /// terraform's `-chdir=DIR`: the backend is read there.
    pub chdir: Option<String>,
}

pub fn run(global: &GlobalArgs, reporter: &Reporter, guarded: Guarded) -> Result<u8> {
    let timing = Timing::resolve(global, guarded.child_lock_timeout)?;
    // Before anything touches the table: a missing program costs no lock.
    let path = child::resolve(&guarded.program, std::env::var_os("PATH").as_deref())?;
    let workdir = std::env::current_dir()
        .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?;
    let workdir = match &guarded.chdir {
        Some(dir) => workdir.join(dir),
        None => workdir,
    };
    let target = Target::resolve(global, &workdir, &process_env)?;

    // Started by a tflock that already holds this very lock (terragrunt with
    // terraform_binary = "tflock" under `tflock run -- terragrunt`): taking it
    // again would wait on ourselves forever. The outer lease covers us, if
    // it is still held: the environment alone may have outlived its tflock
    // (a tmux server started under `tflock run -- $SHELL`).
    if let Some(token) = process_env("TFLOCK_TOKEN")
        && process_env("TFLOCK_LOCK_KEY").as_deref() == Some(target.lock_key.as_str())
    {
        let lease = runtime()?
            .block_on(async {
                let aws = aws::load(&target.aws).await?;
                let table = LeaseTable::new(aws.dynamo(), &target.table, &target.lock_key);
                table.read().await.map_err(|e| e.error)
            })
            .map_err(|e| match e {
                Error::Unavailable(why) => Error::Unavailable(format!(
                    "cannot check the lease this run is nested in (TFLOCK_TOKEN is set): {why}"
                )),
                other => other,
            })?;
        if lease
            .as_ref()
            .is_some_and(|r| r.is_held() && r.owner_token == token)
        {
            reporter.detail(&format!(
                "already running under tflock's lease on {}; not taking it again",
                target.lock_key
            ));
            return super::passthrough::exec(&guarded.program, &guarded.args);
        }
        reporter.warn(&format!(
            "TFLOCK_TOKEN here names a lease on {} that is no longer held (left in the \
             environment of a process that outlived its tflock?): taking the lock",
            target.lock_key
        ));
    }

    let terminal = Terminal::detect(std::io::stdin().is_terminal());
    let holder = Holder::new(
        guarded.operation.clone(),
        &guarded.program.to_string_lossy(),
        &guarded.args,
        &process_env,
    );
    let context = Context {
        reporter,
        target,
        workdir,
        timing,
        holder,
        path,
        guarded,
        terminal,
        lock_key_from_env: global.lock_key_from_env,
        strict: global.strict,
        backup: global.backup,
    };
    runtime()?.block_on(guard(context))
}

struct Context<'a> {
    reporter: &'a Reporter,
    target: Target,
    /// The terraform directory (`-chdir` applied).
    workdir: std::path::PathBuf,
    timing: Timing,
    holder: Holder,
    path: std::path::PathBuf,
    guarded: Guarded,
    terminal: Terminal,
    lock_key_from_env: bool,
    strict: bool,
    backup: bool,
}

async fn guard(cx: Context<'_>) -> Result<u8> {
    let Context {
        reporter,
        target,
        workdir,
        timing,
        holder,
        path,
        guarded,
        terminal,
        lock_key_from_env,
        strict,
        backup,
    } = cx;
    let mut signals = Signals::install()
        .map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))?;
    if let Some(why) = aws::unassumed_web_identity(&target.aws, &process_env) {
        reporter.warn(&why);
    }
    let aws = aws::load(&target.aws).await?;
    let dynamo = aws.dynamo();
    let table = LeaseTable::new(dynamo.clone(), &target.table, &target.lock_key);
    let history = History::new(dynamo, &target.table, timing.history_retention);
    let guard = target.state.as_ref().map(|(bucket, key)| {
        StateGuard::new(aws.s3(), bucket, key, &target.lock_key, strict, backup)
    });
    let wait = wait::Wait {
        lease: timing.lease,
        timeout: timing.lock_timeout,
        takeover: timing.takeover_stale,
        baseline: guard.is_some(),
    };
    // The state is read while the lock is requested: no extra round trip
    // when the lock is free (read again below if we had to wait).
    let observe_early = async {
        match &guard {
            Some(g) => g.observe(reporter).await,
            None => None,
        }
    };
    let asked = std::time::Instant::now();
    tokio::pin!(observe_early);
    // Not a join: a wait that ends in an error (Ctrl-C, the timeout) ends
    // the run at once, whatever the read is doing.
    let mut early = None;
    let (acquired, acquiring) = {
        let acquire = async {
            let acquired = wait::acquire(&table, &holder, &wait, &mut signals, reporter).await;
            (acquired, asked.elapsed())
        };
        tokio::pin!(acquire);
        loop {
            tokio::select! {
                done = &mut acquire => break done,
                seen = &mut observe_early, if early.is_none() => early = Some(seen),
            }
        }
    };
    let acquired = match acquired {
        Ok(a) => a,
        Err(e) => {
            if let Some(event) = wait_event(&e, &target.lock_key, &holder) {
                record(&history, &event, reporter).await;
            }
            return Err(e);
        }
    };
    // The early read stands for the state at our acquisition only when that
    // was quick and uncontended: after a wait, or an acquisition slowed by
    // retries, someone may have written the state meanwhile; then it is not
    // even awaited. Reads from here to the command hold the lock with no
    // heartbeat yet: each is bounded to a third of a lease.
    let quick = acquired.waited.is_zero() && acquiring < EARLY_READ_STANDS;
    let read_limit = timing.lease / 3;
    let early = match early {
        Some(seen) => seen,
        None if quick => tokio::time::timeout(read_limit, &mut observe_early)
            .await
            .unwrap_or(None),
        None => None,
    };
    let lease = acquired.lease.clone();
    if let Some(took) = &acquired.took_over {
        let s3 = aws.s3();
        let place = Place {
            table: &table,
            s3: &s3,
            target: &target,
            workdir: &workdir,
        };
        let event = takeover(&place, &holder, &lease, took, reporter).await;
        record(&history, &event, reporter).await;
    }
    // The state guard: what is there now against what the last release saw
    // (read again unless the early read stands; one that failed gets a
    // second chance).
    let early_stands = quick && early.is_some();
    let mut before = match &guard {
        Some(g) if !early_stands => g.observe_within(read_limit, NOT_CHECKED, reporter).await,
        _ => early,
    };
    // The early read went out with the acquisition, so it may predate the
    // last holder's final write when that holder released just before our
    // acquisition landed: a difference from what the last release saw is
    // read again before it is reported.
    if let (Some(g), Some(seen), Some(now)) = (&guard, &lease.state_seen, &before)
        && early_stands
        && matches!(
            crate::state::compare(seen, now),
            crate::state::Change::Written { .. }
        )
    {
        before = g.observe_within(read_limit, NOT_CHECKED, reporter).await;
    }
    if let Some(g) = &guard {
        let checked = match g
            .check(before.as_ref(), &lease, &holder.who(), &history, reporter)
            .await
        {
            Ok(()) => g.back_up(before.as_ref(), reporter).await,
            Err(e) => Err(e),
        };
        if let Err(e) = checked {
            // Refused before running: the remembered state stays as it was,
            // so the next run refuses too, until `tflock state ack`.
            give_back(&table, &lease, reporter).await;
            return Err(e);
        }
    }
    // A signal that arrived just as the lock was granted (Ctrl-C typed a
    // moment too late to end the wait) means: do not start after all.
    if let Some(sig) = signals.pending() {
        give_back(&table, &lease, reporter).await;
        return Err(Error::interrupted_before_start(
            sig.signal(),
            acquired.waited,
        ));
    }
    let native =
        (target.terraform_lock.is_some() || target.lockfile.is_some()).then(|| NativeLock {
            item: target.terraform_lock.clone(),
            file: target
                .lockfile
                .clone()
                .map(|(bucket, key)| (aws.s3(), bucket, key)),
            who: holder.who(),
            acquired_at: Utc::now(),
        });
    let env = vec![
        ("TFLOCK_LOCK_KEY", Some(target.lock_key.clone())),
        ("TFLOCK_FENCE", Some(lease.fence.to_string())),
        ("TFLOCK_OWNER", Some(holder.who())),
        ("TFLOCK_TOKEN", Some(lease.token.clone())),
        (
            INHERITED_MARKER,
            (!lock_key_from_env).then(|| "1".to_string()),
        ),
    ];
    // Runs that earlier holders left in the lease item go to the history
    // while our command runs, if it runs for a while.
    let copy = history.copy_later(&table, history::COPY_AFTER);
    let spec = child::Spec {
        path,
        program: guarded.program,
        args: guarded.args,
        env,
        own_process_group: !terminal.interactive,
    };
    let finished = supervise::run(
        supervise::Run {
            table: &table,
            lease: acquired.lease,
            heartbeat: timing.heartbeat,
            acquired_started: acquired.started,
            native,
            child: spec,
            terminal,
            max_duration: timing.max_duration,
            reporter,
        },
        &mut signals,
    )
    .await;
    let held = finished.as_ref().map(|f| f.held).unwrap_or_default();
    // The heartbeat has stopped: a read slow enough to let the lease go
    // stale would end a finished run as lease-lost (77). Read within a
    // third of a lease, else remember nothing (no baseline).
    let after = match &guard {
        Some(g) => {
            g.observe_within(
                timing.lease / 3,
                "the next run has nothing to compare it with",
                reporter,
            )
            .await
        }
        None => None,
    };
    let mut event = Event::new(Kind::Run, &target.lock_key, &holder.who());
    event.operation = Some(holder.operation.clone());
    event.fence = Some(lease.fence);
    event.waited_ms = history::millis(acquired.waited);
    event.held_ms = history::millis(held);
    event.ci_url = holder.ci_url.clone();
    match &finished {
        Ok(f) => {
            event.exit_code = Some(f.exit_code);
            event.outcome = Some(
                match f.outcome {
                    Outcome::Exited if f.child_code == 0 => "ok",
                    Outcome::Exited => "failed",
                    Outcome::LeaseLost => "lease_lost",
                    Outcome::TimedOut => "timed_out",
                }
                .to_string(),
            );
        }
        Err(e) => event.outcome = Some(format!("not started: {e}")),
    }
    event.state_before = before.as_ref().map(crate::state::reference);
    event.state_after = after.as_ref().map(crate::state::reference);
    // What the next run compares with: the state as we leave it, or, when it
    // could not be read, nothing (never a stale baseline: a false alarm).
    let seen = match (&guard, &after) {
        (Some(_), Some(after)) => SeenUpdate::Set(after),
        (Some(_), None) => SeenUpdate::Forget,
        (None, _) => SeenUpdate::Keep,
    };
    // The run's record goes with the release, in the same write: no request
    // of its own on the way out (the next in line is waiting for the release).
    // Only when the release did not land is it written on its own.
    let copied = copy.finish().await;
    let json = event.to_json().ok();
    let run = json.as_deref().map(|json| RunRecord {
        json,
        copied,
        history: &history,
    });
    let mut finished = finished;
    match supervise::release(&table, &lease, held, seen, run, reporter).await {
        Released::WithRecord => {}
        Released::Apart => record(&history, &event, reporter).await,
        // Forced at some point of the run though the heartbeat did not see
        // it (the command exited first): the run was not covered to its
        // end, which its exit code says (DESIGN §7).
        Released::NotOurs => {
            if let Ok(f) = finished.as_mut()
                && f.outcome != Outcome::LeaseLost
            {
                reporter.event(crate::output::Event::LeaseLost {
                    lock_key: &target.lock_key,
                    fence: lease.fence,
                    reason: "it was released by someone else (force-unlock?) before the command ended",
                });
                f.outcome = Outcome::LeaseLost;
                f.exit_code = crate::error::exit::LEASE_LOST;
                event.exit_code = Some(f.exit_code);
                event.outcome = Some("lease_lost".into());
            }
            record(&history, &event, reporter).await;
        }
    }
    finished.map(|f| f.exit_code)
}

/// Releases a lease whose command never started, leaving the remembered
/// state as it was.
async fn give_back(table: &LeaseTable, lease: &crate::lock::Lease, reporter: &Reporter) {
    let held = std::time::Duration::ZERO;
    supervise::release(table, lease, held, SeenUpdate::Keep, None, reporter).await;
}

/// The history event for a wait that ended without the lock.
fn wait_event(err: &Error, lock_key: &str, holder: &Holder) -> Option<Event> {
    let mut event = Event::new(Kind::Wait, lock_key, &holder.who());
    event.operation = Some(holder.operation.clone());
    event.ci_url = holder.ci_url.clone();
    match err {
        Error::LockHeld { holder, waited, .. } => {
            event.outcome = Some("gave_up".into());
            event.waited_ms = history::millis(*waited);
            event.previous_holder = Some(holder.clone());
        }
        // An interrupt before the lock was ever found held is no wait.
        Error::Interrupted {
            name,
            waited,
            contended: true,
            ..
        } => {
            event.outcome = Some(format!("interrupted ({name})"));
            event.waited_ms = history::millis(*waited);
        }
        _ => return None,
    }
    Some(event)
}

/// Where terraform's own locks of a taken-over lease are found.
struct Place<'a> {
    table: &'a LeaseTable,
    s3: &'a crate::aws::S3,
    target: &'a Target,
    /// The terraform directory (where a plain terraform would run).
    workdir: &'a std::path::Path,
}

/// After a takeover: removes the dead holder's terraform lock when it is
/// attributable to it, and describes what was done for the history.
async fn takeover(
    place: &Place<'_>,
    holder: &Holder,
    lease: &crate::lock::Lease,
    took: &wait::TookOver,
    reporter: &Reporter,
) -> Event {
    let Place {
        table,
        s3,
        target,
        workdir,
    } = place;
    let previous = &took.previous;
    let mut event = Event::new(Kind::Takeover, &target.lock_key, &holder.who());
    event.operation = Some(holder.operation.clone());
    event.fence = Some(lease.fence);
    event.previous_holder = Some(previous.describe_holder());
    event.previous_fence = Some(previous.fence);
    event.observed_ms = history::millis(took.observed);
    event.ci_url = holder.ci_url.clone();
    event.removed.push(format!(
        "lease of {} (fence {})",
        previous.holder, previous.fence
    ));
    match crate::lock::native::read_all(target, table, s3).await {
        Ok(natives) => {
            let sorted = crate::lock::native::of_dead_holder(&natives, previous, workdir);
            for n in sorted.not_theirs {
                reporter.warn(&format!(
                    "{} is not the dead holder's; left in place",
                    n.describe()
                ));
            }
            for (n, why) in sorted.kept {
                reporter.warn(&format!("{} left in place: {why}", n.describe()));
                event.kept.push(format!("{}: {why}", n.describe()));
            }
            let done = crate::lock::native::remove_all(&sorted.remove, table, s3).await;
            for what in done.removed {
                reporter.warn(&format!("removed {what}"));
                event.removed.push(what);
            }
            for note in done.gone {
                reporter.warn(&note);
            }
            // The dead holder's, left in place all the same: the audit says
            // so (the next terraform may wait on it).
            let failed = done
                .failed
                .into_iter()
                .map(|(what, e)| format!("{what} could not be removed: {e}"));
            for why in done.changed.into_iter().chain(failed) {
                reporter.warn(&why);
                event.kept.push(why);
            }
        }
        Err(e) => reporter.warn(&format!("could not read terraform's own locks: {e}")),
    }
    reporter.event(crate::output::Event::TakenOver {
        lock_key: &target.lock_key,
        fence: lease.fence,
        previous_holder: &previous.holder,
        previous_fence: previous.fence,
    });
    reporter.warn(&format!(
        "took over lock {} from {} (silent for {}); fence {}",
        target.lock_key,
        previous.describe_holder(),
        crate::duration::format(took.observed),
        lease.fence
    ));
    event
}

/// Writes a history event; a failure is reported and never fails the run.
pub async fn record(history: &History, event: &Event, reporter: &Reporter) {
    if let Err(e) = history.record(event).await {
        reporter.warn(&format!("could not record the lock history: {e}"));
    }
}
