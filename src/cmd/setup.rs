//! `tflock setup`: creates the lock table (key `LockID`, String, on demand),
//! turns on the TTL that garbage-collects abandoned leases (`gc_at`), and
//! checks the state bucket. Safe to run again: a second run changes nothing
//! and says so.

use std::io::Write;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TableDescription, TableStatus, TimeToLiveDescription, TimeToLiveSpecification,
    TimeToLiveStatus,
};
use aws_sdk_s3::operation::head_bucket::HeadBucketError;
use aws_sdk_s3::types::BucketVersioningStatus;
use serde_json::json;

use super::runtime;
use crate::aws::{self, Dynamo, S3};
use crate::cli::{GlobalArgs, SetupArgs};
use crate::duration;
use crate::error::{Error, Result};
use crate::lock::record::attr;
use crate::lock::schema::{LOCK_KEY_SCHEMA, key_schema, wrong_schema};
use crate::output::Reporter;
use crate::settings::{self, process_env};

/// How long a new table may take to become ACTIVE.
const ACTIVE_DEADLINE: Duration = Duration::from_secs(120);
const ACTIVE_POLL: Duration = Duration::from_millis(500);

/// The table's TTL, as it concerns tflock's garbage collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ttl {
    /// No TTL (or being turned off: `attribute` names it then).
    Off { disabling: Option<String> },
    /// On (or being turned on) for `gc_at`.
    Ours { enabling: bool },
    /// On (or being turned on) for another attribute: abandoned leases are
    /// never collected, and tflock must not change it (a user's own TTL).
    Other(String),
}

impl Ttl {
    pub fn of(description: Option<&TimeToLiveDescription>) -> Ttl {
        let status = description.and_then(|d| d.time_to_live_status());
        let attribute = description
            .and_then(|d| d.attribute_name())
            .filter(|a| !a.is_empty())
            .map(str::to_string);
        match (status, attribute) {
            (Some(s @ (TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)), Some(a)) => {
                if a == attr::GC_AT {
                    Ttl::Ours {
                        enabling: *s == TimeToLiveStatus::Enabling,
                    }
                } else {
                    Ttl::Other(a)
                }
            }
            (Some(TimeToLiveStatus::Disabling), a) => Ttl::Off { disabling: a },
            _ => Ttl::Off { disabling: None },
        }
    }
}

/// What setup found and did.
#[derive(Debug, Default)]
struct Outcome {
    table: String,
    created: bool,
    /// "enabled" (by this run), "already", or "other:<attribute>".
    ttl: String,
    bucket: Option<String>,
    /// "enabled", "suspended", "not enabled" or "unknown" (unreadable).
    bucket_versioning: Option<String>,
}

impl Outcome {
    fn changed(&self) -> bool {
        self.created || self.ttl == "enabled"
    }
}

/// Prints step lines (text output only: JSON output is one object at the end).
struct Steps<'a> {
    reporter: &'a Reporter,
}

impl Steps<'_> {
    fn say(&self, text: &str) {
        if !self.reporter.json() {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
    }
}

pub fn run(global: &GlobalArgs, args: &SetupArgs, reporter: &Reporter) -> Result<u8> {
    let workdir = std::env::current_dir()
        .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?;
    let (table, aws_settings, s3_backend) =
        settings::resolve_table(global, &workdir, &process_env)?;
    let bucket = args
        .bucket
        .clone()
        .filter(|b| !b.is_empty())
        .or_else(|| s3_backend.map(|b| b.bucket));
    let steps = Steps { reporter };

    let outcome = runtime()?.block_on(async {
        let aws = aws::load(&aws_settings).await?;
        let dynamo = aws.dynamo();
        let mut outcome = Outcome {
            table: table.clone(),
            ..Outcome::default()
        };
        outcome.created = ensure_table(&dynamo, &table, &steps, reporter).await?;
        outcome.ttl = ensure_ttl(&dynamo, &table, &steps, reporter).await?;
        if let Some(bucket) = &bucket {
            let s3 = aws.s3();
            check_bucket(&s3, bucket).await?;
            // Information only: a bucket whose versioning cannot be read is
            // still a bucket terraform can use.
            let versioning = match bucket_versioning(&s3, bucket).await {
                Ok(v) => v.to_string(),
                Err(e) => {
                    reporter.warn(&e.to_string());
                    "unknown".to_string()
                }
            };
            steps.say(&format!(
                "bucket {bucket} exists (versioning: {versioning})"
            ));
            if versioning == "not enabled" || versioning == "suspended" {
                reporter.info(&format!(
                    "versioning is {versioning} on bucket {bucket}: enable it so a bad state \
                     write can be rolled back"
                ));
            }
            outcome.bucket = Some(bucket.clone());
            outcome.bucket_versioning = Some(versioning);
        }
        Ok::<_, Error>(outcome)
    })?;

    let mut out = std::io::stdout().lock();
    if reporter.json() {
        let v = json!({
            "table": outcome.table,
            "created": outcome.created,
            "ttl": outcome.ttl,
            "bucket": outcome.bucket,
            "bucket_versioning": outcome.bucket_versioning,
            "changed": outcome.changed(),
        });
        let _ = writeln!(out, "{v}");
    } else if outcome.changed() {
        let _ = writeln!(out, "done: table {} is ready for tflock", outcome.table);
    } else {
        let _ = writeln!(out, "nothing changed: already set up");
    }
    Ok(0)
}

/// Creates the table unless it exists, checks its key schema, and waits for
/// it to be ACTIVE. Returns whether this run created it.
async fn ensure_table(
    dynamo: &Dynamo,
    table: &str,
    steps: &Steps<'_>,
    reporter: &Reporter,
) -> Result<bool> {
    let existing = match dynamo
        .client
        .describe_table()
        .table_name(table)
        .send()
        .await
    {
        Ok(out) => out.table,
        Err(e) if e.code() == Some("ResourceNotFoundException") => None,
        Err(e) => {
            return Err(aws::failure(
                dynamo,
                table,
                &format!("describe table {table}"),
                &e,
            ));
        }
    };
    let mut created = false;
    let mut raced = false;
    if existing.is_none() {
        let result = dynamo
            .client
            .create_table()
            .table_name(table)
            .attribute_definitions(built(
                AttributeDefinition::builder()
                    .attribute_name(attr::KEY)
                    .attribute_type(ScalarAttributeType::S)
                    .build(),
            )?)
            .key_schema(built(
                KeySchemaElement::builder()
                    .attribute_name(attr::KEY)
                    .key_type(KeyType::Hash)
                    .build(),
            )?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match result {
            Ok(_) => created = true,
            // Another setup created it meanwhile: it exists now.
            Err(e) if e.code() == Some("ResourceInUseException") => raced = true,
            Err(e) => {
                return Err(aws::failure(
                    dynamo,
                    table,
                    &format!("create table {table}"),
                    &e,
                ));
            }
        }
    }
    let description = wait_active(dynamo, table, existing, reporter).await?;
    let schema = key_schema(&description);
    if schema != LOCK_KEY_SCHEMA {
        return Err(wrong_schema(table, &schema));
    }
    if created {
        steps.say(&format!(
            "created table {table} (LockID: String, on demand)"
        ));
    } else if raced {
        steps.say(&format!(
            "table {table} exists (LockID: String; created meanwhile by someone else)"
        ));
    } else {
        steps.say(&format!("table {table} exists (LockID: String)"));
    }
    Ok(created)
}

fn built<T>(b: std::result::Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T> {
    b.map_err(|e| Error::Internal(format!("cannot build a DynamoDB request: {e}")))
}

/// Polls DescribeTable until the table is ACTIVE (a new table takes seconds
/// on AWS), up to [`ACTIVE_DEADLINE`]. A wrong key schema is reported at
/// once, without waiting.
async fn wait_active(
    dynamo: &Dynamo,
    table: &str,
    mut known: Option<TableDescription>,
    reporter: &Reporter,
) -> Result<TableDescription> {
    let deadline = Instant::now() + ACTIVE_DEADLINE;
    let mut said = false;
    loop {
        let description = match known.take() {
            Some(d) => d,
            None => dynamo
                .client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| aws::failure(dynamo, table, &format!("describe table {table}"), &e))?
                .table
                .ok_or_else(|| {
                    Error::Unavailable(format!(
                        "{} described table {table} without its details",
                        dynamo.place
                    ))
                })?,
        };
        let schema = key_schema(&description);
        if schema != LOCK_KEY_SCHEMA {
            return Err(wrong_schema(table, &schema));
        }
        let status = description.table_status().cloned();
        match status {
            Some(TableStatus::Active) | None => return Ok(description),
            Some(other) if Instant::now() >= deadline => {
                return Err(Error::Unavailable(format!(
                    "table {table} is still {} after {} in {}; run `tflock setup` again later",
                    other.as_str(),
                    duration::format(ACTIVE_DEADLINE),
                    dynamo.place
                )));
            }
            Some(other) => {
                if !said {
                    reporter.info(&format!(
                        "table {table} is {}: waiting for it to become ACTIVE",
                        other.as_str()
                    ));
                    said = true;
                }
                tokio::time::sleep(ACTIVE_POLL).await;
            }
        }
    }
}

/// Turns on the TTL on `gc_at` unless some TTL is already on. Returns
/// "enabled", "already", "other:<attribute>", or "later" (a TTL being
/// turned off: DynamoDB takes no TTL change until that is done).
async fn ensure_ttl(
    dynamo: &Dynamo,
    table: &str,
    steps: &Steps<'_>,
    reporter: &Reporter,
) -> Result<String> {
    let described = dynamo
        .client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| aws::failure(dynamo, table, &format!("read the TTL of table {table}"), &e))?;
    match Ttl::of(described.time_to_live_description()) {
        Ttl::Ours { enabling } => {
            let still = if enabling {
                " (still being enabled)"
            } else {
                ""
            };
            steps.say(&format!("TTL already enabled on {}{still}", attr::GC_AT));
            Ok("already".into())
        }
        Ttl::Other(other) => {
            steps.say(&format!(
                "TTL is enabled on {other}, not {}: left unchanged",
                attr::GC_AT
            ));
            reporter.warn(&format!(
                "table {table} has its TTL on {other}, and a table has only one: tflock's garbage \
                 collection of abandoned leases ({}) will not happen",
                attr::GC_AT
            ));
            Ok(format!("other:{other}"))
        }
        Ttl::Off {
            disabling: Some(other),
        } => {
            steps.say(&format!(
                "TTL on {other} is being turned off: left as it is"
            ));
            reporter.warn(&format!(
                "table {table}'s TTL on {other} is being turned off, and DynamoDB takes no other TTL \
                 change until that is done (up to an hour): run `tflock setup` again then to \
                 enable it on {}",
                attr::GC_AT
            ));
            Ok("later".into())
        }
        Ttl::Off { disabling: None } => {
            let spec = TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(attr::GC_AT)
                .build()
                .map_err(|e| Error::Internal(format!("cannot build a DynamoDB request: {e}")))?;
            dynamo
                .client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| {
                    aws::failure(
                        dynamo,
                        table,
                        &format!("enable TTL on {} for table {table}", attr::GC_AT),
                        &e,
                    )
                })?;
            steps.say(&format!("enabled TTL on {}", attr::GC_AT));
            Ok("enabled".into())
        }
    }
}

/// Whether a HeadBucket failure says the bucket does not exist.
pub fn bucket_missing(
    err: &aws_sdk_s3::error::SdkError<HeadBucketError, aws_sdk_s3::config::http::HttpResponse>,
) -> bool {
    match err {
        aws_sdk_s3::error::SdkError::ServiceError(se) => {
            matches!(se.err(), HeadBucketError::NotFound(_))
                || se.raw().status().as_u16() == 404
                || se.err().code() == Some("NoSuchBucket")
        }
        _ => false,
    }
}

/// Checks the bucket exists.
async fn check_bucket(s3: &S3, bucket: &str) -> Result<()> {
    match s3.client.head_bucket().bucket(bucket).send().await {
        Ok(_) => {}
        Err(e) if bucket_missing(&e) => {
            return Err(Error::config(format!(
                "bucket {bucket} does not exist in {}: create it (with versioning enabled), or \
                 name the state bucket with --bucket",
                s3.place
            )));
        }
        Err(e) => {
            return Err(aws::request_failure(
                &s3.place,
                &format!("check bucket {bucket}"),
                &e,
            ));
        }
    }
    Ok(())
}

/// The bucket's versioning: "enabled", "suspended" or "not enabled".
///
/// A successful (2xx) answer the SDK cannot decode is read leniently: moto
/// names the root element of this answer `GetBucketVersioningResponse`
/// where S3 says `VersioningConfiguration`, and the SDK refuses it.
pub async fn bucket_versioning(s3: &S3, bucket: &str) -> Result<&'static str> {
    match s3
        .client
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => Ok(versioning_text(out.status())),
        Err(e) => {
            if let aws_sdk_s3::error::SdkError::ServiceError(se) = &e
                && se.raw().status().is_success()
                && let Some(body) = se.raw().body().bytes()
            {
                let body = String::from_utf8_lossy(body);
                let status = if body.contains("<Status>Enabled</Status>") {
                    Some(BucketVersioningStatus::Enabled)
                } else if body.contains("<Status>Suspended</Status>") {
                    Some(BucketVersioningStatus::Suspended)
                } else {
                    None
                };
                return Ok(versioning_text(status.as_ref()));
            }
            Err(aws::request_failure(
                &s3.place,
                &format!("read the versioning of bucket {bucket}"),
                &e,
            ))
        }
    }
}

pub fn versioning_text(status: Option<&BucketVersioningStatus>) -> &'static str {
    match status {
        Some(BucketVersioningStatus::Enabled) => "enabled",
        Some(BucketVersioningStatus::Suspended) => "suspended",
        _ => "not enabled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::{AttributeDefinition, KeySchemaElement};

    fn table(keys: &[(&str, KeyType, ScalarAttributeType)]) -> TableDescription {
        let mut b = TableDescription::builder();
        for (name, kind, ty) in keys {
            b = b
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(*name)
                        .key_type(kind.clone())
                        .build()
                        .unwrap(),
                )
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(*name)
                        .attribute_type(ty.clone())
                        .build()
                        .unwrap(),
                );
        }
        b.build()
    }

    #[test]
    fn key_schemas_are_described_as_elsewhere() {
        let ok = table(&[("LockID", KeyType::Hash, ScalarAttributeType::S)]);
        assert_eq!(key_schema(&ok), LOCK_KEY_SCHEMA);
        let numeric = table(&[("LockID", KeyType::Hash, ScalarAttributeType::N)]);
        assert_eq!(key_schema(&numeric), "LockID (N)");
        let composite = table(&[
            ("LockID", KeyType::Hash, ScalarAttributeType::S),
            ("sort", KeyType::Range, ScalarAttributeType::N),
        ]);
        assert_eq!(key_schema(&composite), "LockID (S), sort (N)");
        let err = wrong_schema("t", "id (S)");
        assert_eq!(err.exit_code(), crate::error::exit::CONFIG);
        assert!(err.to_string().contains("key schema id (S)"), "{err}");
    }

    fn ttl(status: TimeToLiveStatus, attribute: Option<&str>) -> TimeToLiveDescription {
        TimeToLiveDescription::builder()
            .time_to_live_status(status)
            .set_attribute_name(attribute.map(str::to_string))
            .build()
    }

    #[test]
    fn ttl_states() {
        assert_eq!(Ttl::of(None), Ttl::Off { disabling: None });
        assert_eq!(
            Ttl::of(Some(&ttl(TimeToLiveStatus::Disabled, None))),
            Ttl::Off { disabling: None }
        );
        assert_eq!(
            Ttl::of(Some(&ttl(TimeToLiveStatus::Enabled, Some("gc_at")))),
            Ttl::Ours { enabling: false }
        );
        assert_eq!(
            Ttl::of(Some(&ttl(TimeToLiveStatus::Enabling, Some("gc_at")))),
            Ttl::Ours { enabling: true }
        );
        assert_eq!(
            Ttl::of(Some(&ttl(TimeToLiveStatus::Enabled, Some("expires")))),
            Ttl::Other("expires".into())
        );
        assert_eq!(
            Ttl::of(Some(&ttl(TimeToLiveStatus::Disabling, Some("gc_at")))),
            Ttl::Off {
                disabling: Some("gc_at".into())
            }
        );
    }

    #[test]
    fn versioning_is_named() {
        assert_eq!(
            versioning_text(Some(&BucketVersioningStatus::Enabled)),
            "enabled"
        );
        assert_eq!(
            versioning_text(Some(&BucketVersioningStatus::Suspended)),
            "suspended"
        );
        assert_eq!(versioning_text(None), "not enabled");
    }
}
