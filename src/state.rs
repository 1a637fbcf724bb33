//! The state guard (issue #4): what the state object in S3 looked like when
//! tflock last released the lock, and whether anyone wrote it since without
//! taking the lock (a plain `terraform apply`, `-lock=false`, a script).
//!
//! One ranged GET of the state's first 8 KiB gives everything: ETag,
//! VersionId, LastModified and total size from the headers, and terraform's
//! `serial` and `lineage`, which it writes near the top of the state JSON.
//! So a 200 MB state costs no more than a small one.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::aws::{self, S3};
use crate::error::Error;

/// How much of the state to read: terraform writes `version`,
/// `terraform_version`, `serial` and `lineage` first.
const HEAD_BYTES: u64 = 8 * 1024;

/// The state object as seen at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub etag: String,
    /// `None` when the bucket is not versioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage: Option<String>,
    /// The object does not start like a terraform state (JSON).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_json: bool,
    /// Which object: `<bucket>/<key>` (absent in baselines stored before
    /// it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
}

/// The state object, or its absence (before the first apply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "object", rename_all = "snake_case")]
pub enum Seen {
    Missing {
        /// As [`Snapshot::of`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        of: Option<String>,
    },
    Present(Snapshot),
}

impl Seen {
    pub fn snapshot(&self) -> Option<&Snapshot> {
        match self {
            Seen::Present(s) => Some(s),
            Seen::Missing { .. } => None,
        }
    }

    /// Which object (`<bucket>/<key>`), when recorded.
    pub fn of(&self) -> Option<&str> {
        match self {
            Seen::Present(s) => s.of.as_deref(),
            Seen::Missing { of } => of.as_deref(),
        }
    }

    /// As stored in the lease item (`state_seen`): its JSON, one string.
    pub fn to_attribute(&self) -> AttributeValue {
        AttributeValue::S(serde_json::to_string(self).unwrap_or_default())
    }

    pub fn from_attribute(v: &AttributeValue) -> Option<Seen> {
        serde_json::from_str(v.as_s().ok()?).ok()
    }

    /// "serial 7, version 3fa…", "no serial", "no state object".
    pub fn summary(&self) -> String {
        match self {
            Seen::Missing { .. } => "no state object".into(),
            Seen::Present(s) => {
                let serial = s
                    .serial
                    .map(|n| format!("serial {n}"))
                    .unwrap_or_else(|| "no serial".into());
                match &s.version_id {
                    Some(v) => format!("{serial}, version {v}"),
                    None => serial,
                }
            }
        }
    }
}

/// Reads the state object's head and metadata. `version_id` reads an older
/// version (for `state versions`).
pub async fn observe(
    s3: &S3,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Seen, Error> {
    let answer = s3
        .client
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_string))
        .range(format!("bytes=0-{}", HEAD_BYTES - 1))
        .send()
        .await;
    let of = format!("{bucket}/{key}");
    let out = match answer {
        Ok(out) => out,
        Err(err) => {
            use aws_sdk_s3::operation::get_object::GetObjectError;
            return match err.as_service_error() {
                Some(GetObjectError::NoSuchKey(_)) => Ok(Seen::Missing { of: Some(of) }),
                // An empty object cannot satisfy any range.
                _ if err
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() == 416) =>
                {
                    Ok(Seen::Present(Snapshot {
                        etag: String::new(),
                        version_id: None,
                        last_modified: None,
                        size: Some(0),
                        serial: None,
                        lineage: None,
                        not_json: true,
                        of: Some(of),
                    }))
                }
                _ => Err(aws::request_failure(
                    &s3.place,
                    &format!("read the state s3://{bucket}/{key}"),
                    &err,
                )),
            };
        }
    };
    let etag = out
        .e_tag()
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    let version_id = out
        .version_id()
        .filter(|v| *v != "null")
        .map(str::to_string);
    let last_modified = out
        .last_modified()
        .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()));
    // "bytes 0-8191/123456": the total after the slash.
    let size = out
        .content_range()
        .and_then(|r| r.rsplit('/').next())
        .and_then(|t| t.parse().ok())
        .or_else(|| out.content_length().and_then(|l| u64::try_from(l).ok()));
    let head = out
        .body
        .collect()
        .await
        .map(|b| b.into_bytes())
        .map_err(|e| {
            Error::Unavailable(format!(
                "cannot read the state s3://{bucket}/{key}: {}",
                aws::cause_chain(&e)
            ))
        })?;
    let (serial, lineage, not_json) = parse_head(&head);
    Ok(Seen::Present(Snapshot {
        etag,
        version_id,
        last_modified,
        size,
        serial,
        lineage,
        not_json,
        of: Some(of),
    }))
}

/// `serial` and `lineage` from the beginning of a state file, without a
/// full JSON parse (the head is cut at 8 KiB). `not_json` when it does not
/// even start like JSON.
pub fn parse_head(head: &[u8]) -> (Option<u64>, Option<String>, bool) {
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        return (None, None, true);
    }
    let value_after = |name: &str| -> Option<&str> {
        let at = text.find(&format!("\"{name}\""))?;
        let rest = text[at + name.len() + 2..].trim_start();
        Some(rest.strip_prefix(':')?.trim_start())
    };
    let serial = value_after("serial").and_then(|v| {
        let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().ok()
    });
    let lineage = value_after("lineage").and_then(|v| {
        let v = v.strip_prefix('"')?;
        Some(v[..v.find('"')?].to_string())
    });
    (serial, lineage, false)
}

/// What happened to the state between the last release and now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    /// The two are of different objects (one lock key used for two
    /// states, by `--lock-key`): nothing to compare.
    OtherObject,
    /// Someone wrote it without the lock.
    Written {
        before: Box<Seen>,
        after: Box<Seen>,
        /// A different lineage: the state was replaced (pushed from another
        /// configuration, or a fresh one).
        lineage_changed: bool,
        /// A lower serial: rolled back.
        serial_backwards: bool,
    },
}

pub fn compare(before: &Seen, after: &Seen) -> Change {
    if let (Some(a), Some(b)) = (before.of(), after.of())
        && a != b
    {
        return Change::OtherObject;
    }
    let same = match (before, after) {
        (Seen::Missing { .. }, Seen::Missing { .. }) => true,
        (Seen::Present(a), Seen::Present(b)) => a.etag == b.etag && a.version_id == b.version_id,
        _ => false,
    };
    if same {
        return Change::Unchanged;
    }
    let (a, b) = (before.snapshot(), after.snapshot());
    let lineage_changed = matches!((a.and_then(|s| s.lineage.as_ref()), b.and_then(|s| s.lineage.as_ref())), (Some(x), Some(y)) if x != y);
    let serial_backwards =
        matches!((a.and_then(|s| s.serial), b.and_then(|s| s.serial)), (Some(x), Some(y)) if y < x);
    Change::Written {
        before: Box::new(before.clone()),
        after: Box::new(after.clone()),
        lineage_changed,
        serial_backwards,
    }
}

impl Change {
    /// One line for humans: what changed, how loudly.
    pub fn describe(&self, lock_key: &str) -> Option<String> {
        let Change::Written {
            before,
            after,
            lineage_changed,
            serial_backwards,
        } = self
        else {
            return None;
        };
        let when = after
            .snapshot()
            .and_then(|s| s.last_modified)
            .map(|t| format!(" at {}", t.to_rfc3339_opts(SecondsFormat::Secs, true)))
            .unwrap_or_default();
        let alarm = if *lineage_changed {
            "ITS LINEAGE CHANGED: the state was REPLACED (pushed from another configuration?); "
        } else if *serial_backwards {
            "ITS SERIAL WENT BACKWARDS: the state was ROLLED BACK; "
        } else {
            ""
        };
        Some(format!(
            "the state of {lock_key} was written outside the lock{when}: {alarm}{} when tflock last released it, {} now",
            before.summary(),
            after.summary()
        ))
    }

    pub fn is_alarming(&self) -> bool {
        matches!(
            self,
            Change::Written {
                lineage_changed: true,
                ..
            } | Change::Written {
                serial_backwards: true,
                ..
            }
        )
    }
}

/// Copies the state before a run when the bucket keeps no versions:
/// `<key>.tflock-backup/<timestamp>`. Returns the copy's key.
pub async fn backup(s3: &S3, bucket: &str, key: &str) -> Result<String, Error> {
    let copy = format!(
        "{key}.tflock-backup/{}",
        Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
    );
    // A copy request without encryption settings gets the bucket's default
    // (SSE-S3, say), not the state's own (its KMS key): the backup would be
    // readable without that key. So ask how the state is encrypted.
    let source = s3
        .client
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            aws::request_failure(
                &s3.place,
                &format!("read how s3://{bucket}/{key} is encrypted, to back it up alike"),
                &e,
            )
        })?;
    s3.client
        .copy_object()
        .bucket(bucket)
        .key(&copy)
        .copy_source(format!("{bucket}/{}", urlencode_path(key)))
        .set_server_side_encryption(source.server_side_encryption().cloned())
        .set_ssekms_key_id(source.ssekms_key_id().map(str::to_string))
        .set_bucket_key_enabled(source.bucket_key_enabled())
        .send()
        .await
        .map_err(|e| {
            aws::request_failure(
                &s3.place,
                &format!("back up the state to s3://{bucket}/{copy}"),
                &e,
            )
        })?;
    Ok(copy)
}

/// CopySource is URL-encoded, keeping the slashes.
fn urlencode_path(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A snapshot as kept in a history event (no sizes or dates).
pub fn reference(seen: &Seen) -> HashMap<String, String> {
    let mut m = HashMap::new();
    match seen {
        Seen::Missing { .. } => {
            m.insert("object".into(), "missing".into());
        }
        Seen::Present(s) => {
            m.insert("etag".into(), s.etag.clone());
            if let Some(v) = &s.version_id {
                m.insert("version_id".into(), v.clone());
            }
            if let Some(n) = s.serial {
                m.insert("serial".into(), n.to_string());
            }
            if let Some(l) = &s.lineage {
                m.insert("lineage".into(), l.clone());
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(etag: &str, serial: u64, lineage: &str) -> Seen {
        Seen::Present(Snapshot {
            etag: etag.into(),
            version_id: None,
            last_modified: None,
            size: Some(10),
            serial: Some(serial),
            lineage: Some(lineage.into()),
            not_json: false,
            of: Some("b/app.tfstate".into()),
        })
    }

    #[test]
    fn states_of_two_objects_are_not_compared() {
        let a = snap("e", 5, "L");
        let mut b = snap("e2", 6, "L");
        if let Seen::Present(s) = &mut b {
            s.of = Some("b/other.tfstate".into());
        }
        assert_eq!(compare(&a, &b), Change::OtherObject);
        assert_eq!(compare(&a, &b).describe("k"), None);
        // A baseline stored before the object was recorded compares.
        let mut old = snap("e", 5, "L");
        if let Seen::Present(s) = &mut old {
            s.of = None;
        }
        assert!(matches!(compare(&old, &b), Change::Written { .. }));
        let missing = Seen::Missing {
            of: Some("b/other.tfstate".into()),
        };
        assert_eq!(compare(&a, &missing), Change::OtherObject);
    }

    #[test]
    fn reads_serial_and_lineage_from_a_state_head() {
        let head = br#"{
  "version": 4,
  "terraform_version": "1.11.4",
  "serial": 17,
  "lineage": "0b1c2d3e-aaaa-bbbb-cccc-000000000000",
  "outputs": {"#;
        assert_eq!(
            parse_head(head),
            (
                Some(17),
                Some("0b1c2d3e-aaaa-bbbb-cccc-000000000000".into()),
                false
            )
        );
        assert_eq!(parse_head(b"not json at all"), (None, None, true));
        assert_eq!(
            parse_head(b"\n  {\"lineage\": \"x\"}"),
            (None, Some("x".into()), false)
        );
        assert_eq!(parse_head(b"{\"serial\":"), (None, None, false));
    }

    #[test]
    fn compares_what_matters() {
        let a = snap("e1", 5, "L");
        assert_eq!(compare(&a, &a), Change::Unchanged);
        assert_eq!(
            compare(&Seen::Missing { of: None }, &Seen::Missing { of: None }),
            Change::Unchanged
        );
        let written = compare(&a, &snap("e2", 6, "L"));
        assert!(matches!(
            written,
            Change::Written {
                lineage_changed: false,
                serial_backwards: false,
                ..
            }
        ));
        assert!(!written.is_alarming());
        assert!(
            written
                .describe("k")
                .unwrap()
                .contains("serial 5 when tflock last released it, serial 6 now")
        );
        let replaced = compare(&a, &snap("e3", 1, "M"));
        assert!(
            replaced.is_alarming() && replaced.describe("k").unwrap().contains("LINEAGE CHANGED")
        );
        let rolled_back = compare(&a, &snap("e4", 3, "L"));
        assert!(rolled_back.describe("k").unwrap().contains("ROLLED BACK"));
        assert!(
            matches!(
                compare(&Seen::Missing { of: None }, &a),
                Change::Written { .. }
            ),
            "created outside the lock"
        );
        assert!(
            matches!(
                compare(&a, &Seen::Missing { of: None }),
                Change::Written { .. }
            ),
            "deleted outside the lock"
        );
    }

    #[test]
    fn snapshots_round_trip_through_the_lease_item() {
        for seen in [Seen::Missing { of: None }, snap("e", 3, "L")] {
            assert_eq!(Seen::from_attribute(&seen.to_attribute()), Some(seen));
        }
    }

    #[test]
    fn copy_sources_are_encoded() {
        assert_eq!(
            urlencode_path("env:/dev/app state.tfstate"),
            "env%3A/dev/app%20state.tfstate"
        );
    }
}
