//! terraform's own locks for the same state, wherever the backend keeps
//! them: the DynamoDB item `<bucket>/<path>` (`dynamodb_table`) and the S3
//! lockfile `<path>.tflock` (`use_lockfile`); terraform takes both when both
//! are configured.

use super::lockfile::{self, Lockfile};
use super::{LeaseRecord, LeaseTable, TerraformLock};
use crate::aws::S3;
use crate::error::Error;
use crate::settings::Target;

/// What a removal of terraform's lock found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Removed, exactly as it was read.
    Removed,
    /// Not there any more: removed by an earlier attempt of this very
    /// request whose answer was lost, or by its owner meanwhile. Either way
    /// it no longer locks the state.
    Gone,
    /// Another lock now (or the same, changed): left in place.
    Changed,
}

impl Removal {
    /// The note for a lock `what` that was not simply removed.
    pub fn note(self, what: &str) -> Option<String> {
        match self {
            Removal::Removed => None,
            Removal::Gone => Some(format!(
                "{what} was no longer there when removed (an earlier attempt whose answer was \
                 lost, or its owner unlocking it meanwhile)"
            )),
            Removal::Changed => Some(format!("{what} changed meanwhile; left in place")),
        }
    }
}

pub enum NativeLock {
    Item {
        table: String,
        lock: TerraformLock,
    },
    File {
        bucket: String,
        key: String,
        file: Lockfile,
    },
}

impl NativeLock {
    pub fn lock(&self) -> &TerraformLock {
        match self {
            NativeLock::Item { lock, .. } => lock,
            NativeLock::File { file, .. } => &file.lock,
        }
    }

    /// "terraform lock 386e… (OperationTypeApply by alice@laptop)" or
    /// "terraform lockfile s3://…".
    pub fn describe(&self) -> String {
        let l = self.lock();
        let kind = match self {
            NativeLock::Item { .. } => "terraform lock".to_string(),
            NativeLock::File { bucket, key, .. } => {
                format!("terraform lockfile s3://{bucket}/{key}")
            }
        };
        let shown = super::record::shown;
        format!(
            "{kind} {} ({} by {} since {})",
            shown(&l.id),
            shown(&l.operation),
            shown(&l.who),
            shown(&l.created)
        )
    }

    /// Removes it if it is still exactly what was read.
    pub async fn remove(&self, table: &LeaseTable, s3: &S3) -> Result<Removal, Error> {
        match self {
            NativeLock::Item { table: t, lock } => table
                .delete_terraform_lock(t, lock)
                .await
                .map_err(|e| e.error),
            NativeLock::File { bucket, key, file } => {
                lockfile::remove(s3, bucket, key, &file.etag).await
            }
        }
    }
}

/// terraform's locks for the target's state that are present now.
pub async fn read_all(
    target: &Target,
    table: &LeaseTable,
    s3: &S3,
) -> Result<Vec<NativeLock>, Error> {
    let mut found = Vec::new();
    if let Some((t, id)) = &target.terraform_lock
        && let Some(lock) = table
            .read_terraform_lock(t, id)
            .await
            .map_err(|e| e.error)?
    {
        found.push(NativeLock::Item {
            table: t.clone(),
            lock,
        });
    }
    if let Some((bucket, key)) = &target.lockfile
        && let Some(file) = lockfile::read(s3, bucket, key).await?
    {
        found.push(NativeLock::File {
            bucket: bucket.clone(),
            key: key.clone(),
            file,
        });
    }
    Ok(found)
}

/// terraform's locks present beside a dead holder's lease, sorted.
pub struct OfDeadHolder<'a> {
    /// Attributable to the dead holder (its ID or Who/Created), with no
    /// plain terraform on this machine that may hold them: to remove.
    pub remove: Vec<&'a NativeLock>,
    /// Attributable, but a plain terraform may hold them (or this machine
    /// cannot tell): each with why, left in place.
    pub kept: Vec<(&'a NativeLock, String)>,
    /// Not the dead holder's: left in place.
    pub not_theirs: Vec<&'a NativeLock>,
}

/// Sorts `natives` for the removal of `dead`'s lease (force-unlock
/// `--verify`, a takeover). `workdir`: where a plain terraform would run.
pub fn of_dead_holder<'a>(
    natives: &'a [NativeLock],
    dead: &LeaseRecord,
    workdir: &std::path::Path,
) -> OfDeadHolder<'a> {
    let mut sorted = OfDeadHolder {
        remove: Vec::new(),
        kept: Vec::new(),
        not_theirs: Vec::new(),
    };
    for n in natives {
        if !n.lock().attributable_to(dead) {
            sorted.not_theirs.push(n);
        } else if let Some(why) = super::observe::plain_terraform_here(n.lock(), dead, workdir) {
            sorted.kept.push((n, why));
        } else {
            sorted.remove.push(n);
        }
    }
    sorted
}

/// What removing some of terraform's locks came to (their descriptions,
/// and notes).
#[derive(Default)]
pub struct Removals {
    pub removed: Vec<String>,
    /// Gone before their delete: what was asked for, with a note.
    pub gone: Vec<String>,
    /// Changed meanwhile (or, for a lease, refused): left in place, a note.
    pub changed: Vec<String>,
    /// Errors, by lock: whether these went is unknown.
    pub failed: Vec<(String, Error)>,
}

/// Removes each of `natives`, each conditionally on what was read.
pub async fn remove_all(natives: &[&NativeLock], table: &LeaseTable, s3: &S3) -> Removals {
    let mut done = Removals::default();
    for n in natives {
        let what = n.describe();
        match n.remove(table, s3).await {
            Ok(Removal::Removed) => done.removed.push(what),
            Ok(removal @ Removal::Gone) => done.gone.extend(removal.note(&what)),
            Ok(removal @ Removal::Changed) => done.changed.extend(removal.note(&what)),
            Err(e) => done.failed.push((what, e)),
        }
    }
    done
}
