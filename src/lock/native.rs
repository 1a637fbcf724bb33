//! terraform's own locks for the same state, wherever the backend keeps
//! them: the DynamoDB item `<bucket>/<path>` (`dynamodb_table`) and the S3
//! lockfile `<path>.tflock` (`use_lockfile`); terraform takes both when both
//! are configured.

use super::lockfile::{self, Lockfile};
use super::{LeaseTable, TerraformLock};
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
        format!(
            "{kind} {} ({} by {} since {})",
            l.id, l.operation, l.who, l.created
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
