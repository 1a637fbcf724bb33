//! Proving a holder dead (DESIGN §4, §6): the lease's RVN unchanged for a
//! full lease on the observer's own monotonic clock, and, when the holder was
//! on this host, its process gone. A wall-clock expiry is never proof: a
//! holder whose clock is minutes off must not be declared dead.

use std::path::Path;
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

/// What the holder's own machine knows of its life, beyond its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Life {
    /// Proof of life: why.
    Alive(String),
    /// Its processes, if they still run, are hidden from this process, so
    /// their absence proves nothing: why.
    Hidden(String),
}

impl Life {
    pub fn why(&self) -> &str {
        match self {
            Life::Alive(why) | Life::Hidden(why) => why,
        }
    }
}

/// On the holder's own machine, proof of life: its tflock still running
/// (the same pid, in the same boot and pid namespace, started at the same
/// time: a reused pid or another container with the same hostname is not
/// proof), or a process still running under its lease (its command, whose
/// environment carries the lease's token, or the process its first renewal
/// recorded). Or [`Life::Hidden`]: one of those pids is taken by a process
/// whose details are hidden from us (`/proc` with `hidepid`), which may be
/// it, so it cannot be counted gone. `None` proves nothing either way.
pub fn life_here(record: &LeaseRecord) -> Option<Life> {
    use crate::process::Presence;
    // The record's host is kept as shown (control characters escaped).
    if record.host != super::record::shown(&crate::holder::host_name()) {
        return None;
    }
    // Its command, by the token in its environment (readable by its own
    // user and root), or as the process its first renewal recorded (by
    // anyone who may see it: a tflock killed before that renewal has only
    // the former).
    let command = record
        .command_process
        .as_deref()
        .and_then(crate::process::command_running);
    let running = crate::process::child_running(&record.owner_token).or(match command {
        Some((pid, Presence::Running)) => Some(pid),
        _ => None,
    });
    if let Some(pid) = running {
        return Some(Life::Alive(format!(
            "its command (pid {pid}) is still running on this host ({})",
            record.host
        )));
    }
    let tflock = crate::process::still_running(record.pid, record.process.as_deref());
    if tflock == Some(Presence::Running) {
        return Some(Life::Alive(format!(
            "its tflock (pid {}) is still running on this host ({})",
            record.pid, record.host
        )));
    }
    let hidden: Vec<String> = [
        (tflock, "its tflock", record.pid),
        (
            command.map(|(_, p)| p),
            "its command",
            command.map_or(0, |(pid, _)| pid),
        ),
    ]
    .into_iter()
    .filter(|(presence, _, _)| *presence == Some(Presence::Hidden))
    .map(|(_, what, pid)| format!("{what} (pid {pid})"))
    .collect();
    (!hidden.is_empty()).then(|| {
        Life::Hidden(format!(
            "this host cannot tell whether {} still runs: a process has that pid, but /proc \
             hides its details from this user (hidepid)",
            hidden.join(" or ")
        ))
    })
}

/// Why terraform's lock, attributed to a dead holder by its user, host and
/// time, may instead belong to a plain terraform run (not through tflock)
/// on this machine, still running, in `dir` or in another directory whose
/// backend names the same state; or why this machine cannot
/// tell. Removing such a lock would let a second writer in. A recorded ID
/// does not settle it: the holder's heartbeat records the lock of its user
/// taken after its start, which a plain run may have won while the holder's
/// terraform waited. The holder's own command (its token) is judged by
/// [`life_here`] instead. `None` when there is no such process, or the
/// lock was taken on a machine of another name (whose processes no one
/// here can see: DESIGN §6 leaves that to the operator).
pub fn plain_terraform_here(
    lock: &super::record::TerraformLock,
    lease: &LeaseRecord,
    dir: &Path,
) -> Option<String> {
    let host = lock
        .who
        .rsplit_once('@')
        .map_or(lease.host.as_str(), |(_, host)| host);
    // Either may be as shown (the lease's is): compare both so.
    let shown = super::record::shown;
    if shown(host) != shown(&crate::holder::host_name()) {
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
    // terraform's lock names its state as `<bucket>/<state path>`.
    let state = if lock.path.is_empty() {
        &lock.path_key
    } else {
        &lock.path
    };
    let same_state = |proc_dir: &Path| works_on(proc_dir, state);
    match crate::process::plain_terraform(dir, taken, &lease.owner_token, same_state) {
        Ok(found) if found.is_empty() => None,
        Ok(found) => {
            let list = found
                .iter()
                .map(|p| match &p.cwd {
                    Some(cwd) => format!("pid {} in {}", p.pid, cwd.display()),
                    None => format!("pid {}", p.pid),
                })
                .collect::<Vec<_>>()
                .join(", ");
            Some(format!(
                "it may be plain terraform's ({list}), not the dead holder's; once that \
                 terraform has ended, a lock still there has no owner running on this host: \
                 remove it with `tflock force-unlock {}`",
                lock.id
            ))
        }
        Err(why) => cannot_tell(why),
    }
}

/// Whether the terraform process at `proc_dir`, working in a directory
/// other than the lock holder's, may work on `state` (`<bucket>/<state
/// path>`): the backend its directory was initialised with (read with its
/// own `TF_DATA_DIR` and `TF_WORKSPACE`) names that state, or cannot be
/// read (a process we may not look into may be anything).
fn works_on(proc_dir: &Path, state: &str) -> bool {
    let var = |name: &str| crate::process::environ_var(proc_dir, name);
    let data_dir = crate::backend::data_dir(&proc_dir.join("cwd"), var("TF_DATA_DIR").as_deref());
    match crate::backend::read(&data_dir, var("TF_WORKSPACE").as_deref()) {
        Ok(crate::backend::Backend::S3(backend)) => backend.terraform_lock_id() == state,
        Ok(_) => false,
        Err(_) => true,
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
    /// This host cannot see whether the holder, which ran here, still runs:
    /// why (see [`Life::Hidden`]).
    CannotTell(String),
    /// Released or removed meanwhile: nothing left to do.
    Free,
}

impl From<Life> for Verdict {
    fn from(life: Life) -> Verdict {
        match life {
            Life::Alive(why) => Verdict::Alive(why),
            Life::Hidden(why) => Verdict::CannotTell(why),
        }
    }
}

/// Watches a held lease until it is proved stale or shown alive. `tick` is
/// called after each look with the time still needed.
pub async fn prove_stale(
    table: &LeaseTable,
    record: LeaseRecord,
    mut tick: impl FnMut(Duration),
) -> Result<Verdict, Error> {
    if let Some(life) = life_here(&record) {
        return Ok(life.into());
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
                if let Some(life) = life_here(&record) {
                    return Ok(life.into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for `/proc/PID` of a terraform working in `cwd` with
    /// `environ` (`NAME=value` entries).
    fn process_in(cwd: &Path, environ: &[&str]) -> tempfile::TempDir {
        let proc_dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(cwd, proc_dir.path().join("cwd")).unwrap();
        let environ: Vec<u8> = environ
            .iter()
            .flat_map(|v| [v.as_bytes(), b"\0"].concat())
            .collect();
        std::fs::write(proc_dir.path().join("environ"), environ).unwrap();
        proc_dir
    }

    fn initialised(data_dir: &Path, key: &str) {
        std::fs::create_dir_all(data_dir).unwrap();
        let state =
            serde_json::json!({"backend": {"type": "s3", "config": {"bucket": "b", "key": key}}});
        std::fs::write(data_dir.join("terraform.tfstate"), state.to_string()).unwrap();
    }

    #[test]
    fn a_terraform_elsewhere_works_on_the_state_its_backend_names() {
        let clone = tempfile::tempdir().unwrap();
        initialised(&clone.path().join(".terraform"), "prod.tfstate");
        let plain = process_in(clone.path(), &[]);
        assert!(works_on(plain.path(), "b/prod.tfstate"));
        assert!(!works_on(plain.path(), "b/staging.tfstate"));
        // Its own workspace and data directory, from its environment.
        let in_ws = process_in(clone.path(), &["TF_WORKSPACE=blue"]);
        assert!(works_on(in_ws.path(), "b/env:/blue/prod.tfstate"));
        assert!(!works_on(in_ws.path(), "b/prod.tfstate"));
        initialised(&clone.path().join("data"), "other.tfstate");
        let own_data = process_in(clone.path(), &["TF_DATA_DIR=data"]);
        assert!(works_on(own_data.path(), "b/other.tfstate"));
        // Not initialised (local state), or another backend: not this state.
        let bare = tempfile::tempdir().unwrap();
        assert!(!works_on(
            process_in(bare.path(), &[]).path(),
            "b/prod.tfstate"
        ));
        // Unreadable: it may be anything.
        std::fs::write(clone.path().join(".terraform/terraform.tfstate"), "{").unwrap();
        assert!(works_on(plain.path(), "b/staging.tfstate"));
    }
}
