//! terraform's S3-native lock (`use_lockfile = true`, terraform 1.10+): an
//! object `<state key>.tflock` holding terraform's LockInfo JSON. Read for
//! `status`, and removed by a verified force-unlock or a takeover only when
//! it is the dead holder's, conditionally on the ETag read.

use aws_sdk_s3::operation::get_object::GetObjectError;

use super::TerraformLock;
use crate::aws::{self, S3};
use crate::error::Error;

/// A lockfile as read: the lock, and the ETag a removal is conditional on.
#[derive(Debug, Clone)]
pub struct Lockfile {
    pub lock: TerraformLock,
    pub etag: String,
}

pub async fn read(s3: &S3, bucket: &str, key: &str) -> Result<Option<Lockfile>, Error> {
    let out = match s3.client.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => out,
        Err(err) => {
            return match err.as_service_error() {
                Some(GetObjectError::NoSuchKey(_)) => Ok(None),
                _ => Err(aws::request_failure(
                    &s3.place,
                    &format!("read terraform's lockfile s3://{bucket}/{key}"),
                    &err,
                )),
            };
        }
    };
    let etag = out.e_tag().unwrap_or_default().to_string();
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| {
            Error::Unavailable(format!(
                "cannot read s3://{bucket}/{key}: {}",
                crate::aws::cause_chain(&e)
            ))
        })?
        .into_bytes();
    let info = String::from_utf8_lossy(&body).into_owned();
    Ok(Some(Lockfile {
        lock: TerraformLock::from_info(&format!("s3://{bucket}/{key}"), Some(info)),
        etag,
    }))
}

/// Removes the lockfile if it is still the one read: removed, gone already,
/// or changed meanwhile (left).
pub async fn remove(
    s3: &S3,
    bucket: &str,
    key: &str,
    etag: &str,
) -> Result<super::native::Removal, Error> {
    use super::native::Removal;
    if etag.is_empty() {
        // Nothing to make the delete conditional on: a store that answered
        // without an ETag might also ignore `If-Match: ""`. Leave it.
        return Ok(Removal::Changed);
    }
    match s3
        .client
        .delete_object()
        .bucket(bucket)
        .key(key)
        .if_match(etag)
        .send()
        .await
    {
        Ok(_) => Ok(Removal::Removed),
        Err(err) => {
            let code = err
                .as_service_error()
                .and_then(aws_sdk_s3::error::ProvideErrorMetadata::code);
            let precondition = err
                .raw_response()
                .is_some_and(|r| r.status().as_u16() == 412)
                || code == Some("PreconditionFailed");
            if precondition {
                return Ok(Removal::Changed);
            }
            // Not there (a conditional delete of a missing key, not of a
            // missing bucket): gone.
            if code == Some("NoSuchKey") {
                return Ok(Removal::Gone);
            }
            Err(aws::request_failure(
                &s3.place,
                &format!("remove terraform's lockfile s3://{bucket}/{key}"),
                &err,
            ))
        }
    }
}
