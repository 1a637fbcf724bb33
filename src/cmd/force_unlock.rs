//! `tflock force-unlock`: removing a lock whose holder is gone (DESIGN §6).
//!
//! `--verify` removes a lease only after proving its holder dead by
//! observation, conditionally on what it observed, and terraform's own lock
//! item only when it is attributable to that holder. `force-unlock ID` is the
//! unguarded path, like terraform's: the exact ID, and a confirmation.
//! Every removal leaves an audit record in the lock history.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use serde_json::json;

use super::runtime;
use crate::cli::{ForceUnlockArgs, GlobalArgs};
use crate::duration;
use crate::error::{Error, Result};
use crate::history::{self, Event, History, Kind};
use crate::holder;
use crate::lock::native::{self, NativeLock, Removals};
use crate::lock::observe::{self, Verdict};
use crate::lock::{ForceRelease, LeaseRecord, LeaseTable};
use crate::output::{Event as OutputEvent, Reporter};
use crate::settings::{Target, Timing, process_env};

pub fn run(global: &GlobalArgs, args: &ForceUnlockArgs, reporter: &Reporter) -> Result<u8> {
    // clap does not enforce `requires` on a flag that defaults to false.
    if args.keep_terraform_lock && !args.verify {
        return Err(Error::usage(
            "--keep-terraform-lock goes with --verify (the unguarded path removes exactly the ID given)",
        ));
    }
    let timing = Timing::resolve(global, None)?;
    let workdir = std::env::current_dir()
        .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?;
    let target = Target::resolve(global, &workdir, &process_env)?;
    runtime()?.block_on(async {
        let aws = crate::aws::load(&target.aws).await?;
        let dynamo = aws.dynamo();
        let s3 = aws.s3();
        let table = LeaseTable::new(dynamo.clone(), &target.table, &target.lock_key);
        let history = History::new(dynamo, &target.table, timing.history_retention);
        let lease = table.read().await.map_err(|e| e.error)?;
        let natives = native::read_all(&target, &table, &s3).await?;
        let cx = Context {
            table: &table,
            s3: &s3,
            target: &target,
            history: &history,
            reporter,
            args,
            workdir: &workdir,
            who: format!(
                "{}@{}",
                holder::user_name(&process_env),
                holder::host_name()
            ),
        };
        match &args.lock_id {
            None => cx.verified(lease, natives).await,
            Some(id) => cx.unguarded(id, lease, natives).await,
        }
    })
}

/// "removed A and B; " before what did not go, or nothing.
fn removed_so_far(removed: &[String]) -> String {
    if removed.is_empty() {
        String::new()
    } else {
        format!("removed {}; ", removed.join(" and "))
    }
}

struct Context<'a> {
    table: &'a LeaseTable,
    s3: &'a crate::aws::S3,
    target: &'a Target,
    history: &'a History,
    reporter: &'a Reporter,
    args: &'a ForceUnlockArgs,
    /// The terraform directory (where a plain terraform would run).
    workdir: &'a std::path::Path,
    /// `user@host` of the operator, for the audit record.
    who: String,
}

impl Context<'_> {
    /// Prints the outcome (stdout: it is this command's result).
    fn say(&self, result: &str, text: &str, removed: &[String]) {
        let mut out = std::io::stdout().lock();
        if self.reporter.json() {
            let v = json!({
                "result": result,
                "lock_key": self.target.lock_key,
                "message": text,
                "removed": removed,
            });
            let _ = writeln!(out, "{v}");
        } else {
            let _ = writeln!(out, "{text}");
        }
    }

    /// Refuses (76). The reason is the error line on stderr; with `--output
    /// json` the result object on stdout says it too (`result`: "refused").
    fn refuse(&self, why: String) -> Result<u8> {
        if self.reporter.json() {
            self.say("refused", &why, &[]);
        }
        Err(Error::ForceUnlockRefused(why))
    }

    /// Writes the audit record before anything is removed; without it,
    /// nothing is (exit 69).
    async fn audit(&self, mut event: Event) -> Result<()> {
        event.reason = self.args.reason.clone();
        self.history.record(&event).await.map_err(|e| {
            Error::Unavailable(format!(
                "cannot write the audit record, so nothing was removed: {e}"
            ))
        })
    }

    /// A follow-up record when the removal did not go as recorded: what was
    /// removed after all (as far as is known), and why not the rest.
    async fn amend(&self, event: &Event, outcome: String, removed: &[String]) {
        let mut event = event.clone();
        event.removed = removed.to_vec();
        event.at = chrono::Utc::now();
        event.outcome = Some(format!(
            "{}: {outcome}",
            event.outcome.as_deref().unwrap_or("")
        ));
        event.reason = self.args.reason.clone();
        super::run::record(self.history, &event, self.reporter).await;
    }

    /// The end of a force-unlock whose removal of `failed` errored (the lock
    /// may still be there: 69, never 0): the audit record amended with what
    /// was `removed` and what was not, and the error saying the same.
    async fn not_confirmed(
        &self,
        event: &Event,
        removed: &[String],
        failed: &[(String, Error)],
        others: &[String],
    ) -> Error {
        let done = removed_so_far(removed);
        let also = if others.is_empty() {
            String::new()
        } else {
            format!("; {}", others.join("; "))
        };
        let failed: Vec<String> = failed
            .iter()
            .map(|(what, e)| format!("{what}: {e}"))
            .collect();
        let why = format!("{done}removal not confirmed: {}{also}", failed.join("; "));
        self.amend(event, why.clone(), removed).await;
        let why = format!("{}: {why}", self.target.lock_key);
        // As a refusal does: the result object names what did go (the
        // lease, say), which the error line alone would leave to be parsed.
        if self.reporter.json() {
            self.say("not_confirmed", &why, removed);
        }
        Error::Unavailable(why)
    }

    async fn verified(&self, lease: Option<LeaseRecord>, natives: Vec<NativeLock>) -> Result<u8> {
        let lock_key = &self.target.lock_key;
        let record = match lease {
            Some(r) if r.is_held() => r,
            _ => {
                return match natives.first() {
                    Some(n) => self.refuse(format!(
                        "{lock_key} is locked by terraform itself ({}) with no tflock lease beside it, \
                         so nothing can prove its holder dead; if you have verified that no terraform \
                         of {} is still running, remove it with `tflock force-unlock {}` (see \
                         docs/force-unlock.md)",
                        n.describe(),
                        n.lock().who,
                        n.lock().id
                    )),
                    None => {
                        self.say("free", &format!("{lock_key} is not locked: nothing to do"), &[]);
                        Ok(0)
                    }
                };
            }
        };
        let need = observe::required_silence(&record);
        self.reporter.info(&format!(
            "observing the lease of {} for {}: a heartbeat in that time proves it alive",
            record.describe_holder(),
            duration::format(need)
        ));
        let countdown = Countdown::new(self.reporter, need);
        let token = record.owner_token.clone();
        let verdict = observe::prove_stale(self.table, record, |left| countdown.tick(left)).await;
        countdown.finish();
        let (record, observed) = match verdict? {
            Verdict::Alive(why) => return self.refuse(format!("the holder is alive: {why}")),
            Verdict::CannotTell(why) => {
                return self.refuse(format!(
                    "staleness cannot be proved from here: {why}; run `tflock force-unlock \
                     --verify` again where /proc shows every process (root with CAP_SYS_PTRACE), or \
                     check with such rights that the process is not the holder's and remove the \
                     lease with `tflock force-unlock {token}` (see docs/force-unlock.md)"
                ));
            }
            Verdict::Free => {
                self.say(
                    "free",
                    &format!("{lock_key} was released by its holder meanwhile: nothing to do"),
                    &[],
                );
                return Ok(0);
            }
            Verdict::Stale { record, observed } => (record, observed),
        };
        // What will go: the lease, and terraform's own lock when it is the
        // dead holder's (unless kept).
        let mut notes = Vec::new();
        let mut plan = Vec::new();
        // The dead holder's terraform locks left in place, for the audit.
        let mut kept = Vec::new();
        if self.args.keep_terraform_lock {
            for n in &natives {
                notes.push(format!("{} kept (--keep-terraform-lock)", n.describe()));
                kept.push(format!("{} (--keep-terraform-lock)", n.describe()));
            }
        } else {
            let sorted = native::of_dead_holder(&natives, &record, self.workdir);
            for (n, why) in sorted.kept {
                notes.push(format!("{} left in place: {why}", n.describe()));
                kept.push(format!("{}: {why}", n.describe()));
            }
            for n in sorted.not_theirs {
                notes.push(format!(
                    "{} is not the dead holder's; left in place",
                    n.describe()
                ));
            }
            plan = sorted.remove;
        }
        let lease_removed = format!(
            "lease of {} (fence {})",
            record.describe_holder(),
            record.fence
        );
        // The audit record first: no removal is ever unrecorded.
        let mut event = Event::new(Kind::ForceUnlock, lock_key, &self.who);
        event.outcome = Some("verified".into());
        event.previous_holder = Some(record.describe_holder());
        event.previous_fence = Some(record.fence);
        event.observed_ms = history::millis(observed);
        event.removed = std::iter::once(lease_removed.clone())
            .chain(plan.iter().map(|n| n.describe()))
            .collect();
        event.kept = kept;
        self.audit(event.clone()).await?;

        let released = match self.table.force_release(&record, &self.who, true).await {
            Ok(answer) => answer,
            Err(e) => {
                // Whether it landed is unknown; nothing else was tried.
                return Err(self
                    .not_confirmed(&event, &[], &[(lease_removed, e.error)], &[])
                    .await);
            }
        };
        match released {
            ForceRelease::Released => {}
            ForceRelease::Refused(found) => {
                let (free, why) = ForceRelease::why_refused(found.as_deref(), &record);
                self.amend(&event, format!("nothing removed: {why}"), &[])
                    .await;
                if free {
                    self.say("free", &format!("{lock_key}: {why}; nothing to do"), &[]);
                    return Ok(0);
                }
                return self.refuse(why);
            }
        }
        // The lease is released; then each of the dead holder's terraform
        // locks. One that errors may still be there: never exit 0 then.
        let natives = native::remove_all(&plan, self.table, self.s3).await;
        let removed: Vec<String> = std::iter::once(lease_removed)
            .chain(natives.removed)
            .collect();
        // What did not go as recorded: a lock gone before its delete, or
        // changed (left in place).
        let differs: Vec<String> = natives.gone.into_iter().chain(natives.changed).collect();
        if !natives.failed.is_empty() {
            return Err(self
                .not_confirmed(&event, &removed, &natives.failed, &differs)
                .await);
        }
        if !differs.is_empty() {
            self.amend(&event, differs.join("; "), &removed).await;
        }
        notes.extend(differs);
        let mut text = format!(
            "unlocked {lock_key}: its holder was silent for {} (lease {}); removed {}",
            duration::format(observed),
            duration::format(record.lease),
            removed.join(" and ")
        );
        for note in notes {
            text.push_str(&format!("\n{note}"));
        }
        self.reporter.event(OutputEvent::ForceUnlocked {
            lock_key,
            holder: Some(&record.holder),
            fence: Some(record.fence),
            removed: &removed,
            verified: true,
        });
        self.say("unlocked", &text, &removed);
        Ok(0)
    }

    async fn unguarded(
        &self,
        id: &str,
        lease: Option<LeaseRecord>,
        natives: Vec<NativeLock>,
    ) -> Result<u8> {
        let lock_key = &self.target.lock_key;
        let lease_targeted = lease
            .as_ref()
            .filter(|r| r.is_held() && r.owner_token == id);
        // terraform writes one ID to its DynamoDB item and its S3 lockfile
        // when it uses both: an ID names every lock that carries it.
        let natives_targeted: Vec<&NativeLock> = natives
            .iter()
            .filter(|n| !n.lock().id.is_empty() && n.lock().id == id)
            .collect();
        let targets: Vec<String> = match lease_targeted {
            Some(r) => vec![format!(
                "the lease of {} (fence {})",
                r.describe_holder(),
                r.fence
            )],
            None if !natives_targeted.is_empty() => {
                natives_targeted.iter().map(|n| n.describe()).collect()
            }
            None => {
                let mut known = Vec::new();
                if let Some(r) = lease.as_ref().filter(|r| r.is_held()) {
                    known.push(format!("the lease's token is {}", r.owner_token));
                }
                known.extend(
                    natives
                        .iter()
                        .map(|n| format!("{} has the ID {}", n.describe(), n.lock().id)),
                );
                let known = if known.is_empty() {
                    "nothing is locked".to_string()
                } else {
                    known.join(", ")
                };
                return self.refuse(format!("no lock on {lock_key} has the ID {id} ({known})"));
            }
        };
        let what = targets.join(" and ");
        self.confirm(&what)?;
        // The audit record first: no removal is ever unrecorded.
        let mut event = Event::new(Kind::ForceUnlock, lock_key, &self.who);
        event.outcome = Some("unguarded".into());
        event.previous_holder = lease_targeted
            .map(|r| r.describe_holder())
            .or_else(|| natives_targeted.first().map(|n| n.lock().who.clone()));
        event.previous_fence = lease_targeted.map(|r| r.fence);
        event.removed = targets.clone();
        self.audit(event.clone()).await?;
        // The lease, or every terraform lock with the ID.
        let natives = match lease_targeted {
            Some(r) => {
                let mut lease = Removals::default();
                match self.table.force_release(r, &self.who, false).await {
                    Ok(ForceRelease::Released) => lease.removed.push(what.clone()),
                    Ok(ForceRelease::Refused(found)) => lease
                        .changed
                        .push(ForceRelease::why_refused(found.as_deref(), r).1),
                    Err(e) => lease.failed.push((what.clone(), e.error)),
                }
                lease
            }
            // Gone is what was asked for.
            None => native::remove_all(&natives_targeted, self.table, self.s3).await,
        };
        let Removals {
            removed,
            gone,
            changed: left,
            failed,
        } = natives;
        // Anything not removed leaves the state locked: never exit 0 then.
        if !failed.is_empty() {
            return Err(self.not_confirmed(&event, &removed, &failed, &left).await);
        }
        let done = removed_so_far(&removed);
        if !left.is_empty() {
            let why = left.join("; ");
            let outcome = if removed.is_empty() {
                format!("nothing removed: {why}")
            } else {
                format!("{done}not removed: {why}")
            };
            self.amend(&event, outcome, &removed).await;
            return self.refuse(format!("{done}{why}"));
        }
        if !gone.is_empty() {
            self.amend(&event, gone.join("; "), &removed).await;
        }
        // The event says what this command removed: nothing, when every
        // lock was already gone (docs/events.schema.json wants one at least).
        if !removed.is_empty() {
            self.reporter.event(OutputEvent::ForceUnlocked {
                lock_key,
                holder: lease_targeted
                    .map(|r| r.holder.as_str())
                    .or_else(|| natives_targeted.first().map(|n| n.lock().who.as_str())),
                fence: lease_targeted.map(|r| r.fence),
                removed: &removed,
                verified: false,
            });
        }
        let mut text = if removed.is_empty() {
            format!("unlocked {lock_key} (unverified)")
        } else {
            format!(
                "unlocked {lock_key}: removed {} (unverified)",
                removed.join(" and ")
            )
        };
        for note in &gone {
            text.push_str(&format!("\n{note}"));
        }
        self.say("unlocked", &text, &removed);
        Ok(0)
    }

    /// Asks at a terminal; without one, `--yes` is required.
    fn confirm(&self, what: &str) -> Result<()> {
        if self.args.yes {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::usage(format!(
                "force-unlock would remove {what} without proof that its holder is dead; \
                 with no terminal to confirm, pass --yes"
            )));
        }
        eprint!(
            "Remove {what}?\nOnly do this when you know its holder is no longer running.\nType \"yes\" to remove it: "
        );
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| Error::Internal(format!("cannot read the answer: {e}")))?;
        if answer.trim() != "yes" {
            self.refuse("not confirmed: nothing was removed".into())?;
        }
        Ok(())
    }
}

/// A countdown while observing: a bar on a terminal, silence otherwise (the
/// start and the verdict are reported as lines).
struct Countdown {
    bar: Option<indicatif::ProgressBar>,
    total: Duration,
    start: Instant,
}

impl Countdown {
    fn new(reporter: &Reporter, total: Duration) -> Countdown {
        let bar = (std::io::stderr().is_terminal() && !reporter.json())
            .then(|| {
                let bar = indicatif::ProgressBar::with_draw_target(
                    Some(total.as_millis() as u64),
                    indicatif::ProgressDrawTarget::stderr(),
                );
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{spinner} proving the holder dead: {wide_bar} {msg}",
                ) {
                    bar.set_style(style);
                }
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .filter(|b| !b.is_hidden());
        Countdown {
            bar,
            total,
            start: Instant::now(),
        }
    }

    fn tick(&self, left: Duration) {
        if let Some(bar) = &self.bar {
            bar.set_position(self.start.elapsed().min(self.total).as_millis() as u64);
            bar.set_message(format!(
                "{} left, no heartbeat so far",
                duration::format(left)
            ));
        }
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
