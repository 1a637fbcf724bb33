//! Proving a holder dead (DESIGN §4, §6): the lease's RVN unchanged for a
//! full lease on the observer's own monotonic clock, and, when the holder was
//! on this host, its process gone. A wall-clock expiry is never proof: a
//! holder whose clock is minutes off must not be declared dead.

use std::time::{Duration, Instant};

use super::{LeaseRecord, LeaseTable};
use crate::error::Error;

/// Observed silence beyond the holder's lease before it counts as stale:
/// covers the rate difference between two machines' clocks and the time a
/// renewal takes to land.
pub const MARGIN: Duration = Duration::from_secs(1);

/// How long the RVN must stay unchanged.
pub fn required_silence(record: &LeaseRecord) -> Duration {
    record.lease + MARGIN
}

/// On the holder's own machine, proof of life: its tflock still running
/// (the same pid, in the same boot and pid namespace, started at the same
/// time: a reused pid or another container with the same hostname is not
/// proof), or a process still running under its lease (its command, whose
/// environment carries the lease's token). `None` proves nothing either way.
pub fn alive_here(record: &LeaseRecord) -> Option<String> {
    if record.host != crate::holder::host_name() {
        return None;
    }
    if let Some(pid) = crate::process::child_running(&record.owner_token) {
        return Some(format!(
            "its command (pid {pid}) is still running on this host ({})",
            record.host
        ));
    }
    match crate::process::still_running(record.pid, record.process.as_deref()) {
        Some(true) => Some(format!(
            "its tflock (pid {}) is still running on this host ({})",
            record.pid, record.host
        )),
        _ => None,
    }
}

/// Why terraform's lock, attributed to a dead holder by its user, host and
/// time, may instead belong to a plain terraform run (not through tflock)
/// in `dir` on this machine, still running; or why this machine cannot
/// tell. Removing such a lock would let a second writer in. A recorded ID
/// does not settle it: the holder's heartbeat records the lock of its user
/// taken after its start, which a plain run may have won while the holder's
/// terraform waited. The holder's own command (its token) is judged by
/// [`alive_here`] instead. `None` when there is no such process, or the
/// lock was taken on a machine of another name (whose processes no one
/// here can see: DESIGN §6 leaves that to the operator).
pub fn plain_terraform_here(
    lock: &super::record::TerraformLock,
    lease: &LeaseRecord,
    dir: &std::path::Path,
) -> Option<String> {
    let host = lock
        .who
        .rsplit_once('@')
        .map_or(lease.host.as_str(), |(_, host)| host);
    if host != crate::holder::host_name() {
        return None;
    }
    let taken = lock.created_at();
    let cannot_tell = |why: String| {
        Some(format!(
            "this host cannot tell whether a plain terraform holds it ({why}); check on {host} \
             that no terraform of this state runs, then remove it with `tflock force-unlock {}`",
            lock.id
        ))
    };
    // The holder's boot and pid namespace against ours ("-": unreadable).
    let ours = crate::process::identity();
    let ours: Vec<&str> = ours.split(' ').collect();
    let theirs: Vec<&str> = lease.process.as_deref().unwrap_or("").split(' ').collect();
    let (Some(&our_boot), Some(&our_ns), Some(&boot), Some(&ns)) =
        (ours.first(), ours.get(1), theirs.first(), theirs.get(1))
    else {
        return cannot_tell("the lease does not say which process held it".into());
    };
    if boot != "-" && our_boot != "-" && boot != our_boot {
        // This machine before it rebooted, or another machine with this
        // name: nothing here tells which, and the other's processes are
        // not ours to see.
        return cannot_tell(
            "the dead holder ran in another boot: this machine has rebooted since, or another \
             machine has this name"
                .into(),
        );
    } else if ns == "-" || our_ns == "-" || ns != our_ns {
        return cannot_tell(format!(
            "the dead holder ran in another pid namespace of this machine ({ns}), whose processes \
             are not all visible here"
        ));
    }
    match crate::process::plain_terraform(dir, taken, &lease.owner_token) {
        Ok(pids) if pids.is_empty() => None,
        Ok(pids) => {
            let list = pids
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            Some(format!(
                "it may be plain terraform's (pid {list}, in {}), not the dead holder's; once that \
                 terraform has ended, a lock still there has no owner running in this directory: \
                 remove it with `tflock force-unlock {}`",
                dir.display(),
                lock.id
            ))
        }
        Err(why) => cannot_tell(why),
    }
}

/// What an observation concluded.
#[derive(Debug)]
pub enum Verdict {
    /// Silent for the whole required time: presumed dead. The record is the
    /// one observed at the start (its owner and RVN are what a removal must
    /// be conditional on).
    Stale {
        record: Box<LeaseRecord>,
        observed: Duration,
    },
    /// Alive: why we know.
    Alive(String),
    /// Released or removed meanwhile: nothing left to do.
    Free,
}

/// Watches a held lease until it is proved stale or shown alive. `tick` is
/// called after each look with the time still needed.
pub async fn prove_stale(
    table: &LeaseTable,
    record: LeaseRecord,
    mut tick: impl FnMut(Duration),
) -> Result<Verdict, Error> {
    if let Some(why) = alive_here(&record) {
        return Ok(Verdict::Alive(why));
    }
    let start = Instant::now();
    let need = required_silence(&record);
    // Several looks per lease so a heartbeat is noticed (and the wait ended)
    // promptly; the proof itself rests on the final conditional write.
    let poll = (record.lease / 5).clamp(Duration::from_millis(100), Duration::from_secs(1));
    loop {
        let elapsed = start.elapsed();
        tick(need.saturating_sub(elapsed));
        if elapsed >= need {
            return Ok(Verdict::Stale {
                record: Box::new(record),
                observed: elapsed,
            });
        }
        tokio::time::sleep(poll.min(need - elapsed)).await;
        // A failed look proves nothing either way; the next one may succeed,
        // and the removal is conditional on the RVN regardless.
        let Ok(now) = table.read().await else {
            continue;
        };
        match now {
            None => return Ok(Verdict::Free),
            Some(r) if !r.is_held() => return Ok(Verdict::Free),
            Some(r) if r.owner_token != record.owner_token => {
                return Ok(Verdict::Alive(format!(
                    "the lock changed hands meanwhile: now held by {}",
                    r.describe_holder()
                )));
            }
            Some(r) if r.rvn != record.rvn => {
                return Ok(Verdict::Alive(format!(
                    "a heartbeat landed {} into the observation",
                    crate::duration::format(start.elapsed())
                )));
            }
            Some(_) => {
                if let Some(why) = alive_here(&record) {
                    return Ok(Verdict::Alive(why));
                }
            }
        }
    }
}
