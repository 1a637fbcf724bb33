//! `tflock doctor`: checks everything a guarded run depends on, one line per
//! check (`pass`, `warn`, `fail`, or `skip` when a check cannot run because
//! an earlier one failed), then a summary. Exits 0 when nothing failed and 78
//! otherwise (never 1, which terraform uses).
//!
//! Checks: the backend (which lock, which table), the table (exists, key
//! schema, TTL on `gc_at`), the credentials, a scratch lock write, the state
//! bucket (exists, versioning, default encryption), this machine's clock
//! against DynamoDB's, and the terraform program. Nothing here touches the
//! real lock: the write check uses an item of its own and removes it.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, TableStatus};
use aws_smithy_runtime_api::box_error::BoxError;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::runtime;
use super::setup::{self, Ttl};
use crate::aws::{self, Dynamo};
use crate::backend::Backend;
use crate::cli::{DoctorArgs, GlobalArgs};
use crate::duration;
use crate::error::{Error, Result};
use crate::lock::record::attr;
use crate::lock::schema::{LOCK_KEY_SCHEMA, key_schema, wrong_schema};
use crate::output::Reporter;
use crate::settings::{self, Target, Timing, process_env};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

#[derive(Debug, Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, name: &'static str, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            status,
            detail: detail.into(),
        });
    }

    fn skip_all(&mut self, names: &[&'static str], why: &str) {
        for name in names {
            self.add(name, Status::Skip, why);
        }
    }
}

/// The checks that need the lock table's location and AWS, in order.
const AWS_CHECKS: &[&str] = &[
    TABLE,
    TTL,
    CREDENTIALS,
    LOCK_WRITE,
    BUCKET,
    VERSIONING,
    ENCRYPTION,
    CLOCK,
];
const BACKEND: &str = "backend";
const TABLE: &str = "table";
const TTL: &str = "ttl";
const CREDENTIALS: &str = "credentials";
const LOCK_WRITE: &str = "lock write";
const BUCKET: &str = "bucket";
const VERSIONING: &str = "versioning";
const ENCRYPTION: &str = "encryption";
const CLOCK: &str = "clock";
const TERRAFORM: &str = "terraform";

/// The prefix of the scratch item the write check uses: never a lease
/// (`tflock:`), history (`tflock-history:`) or terraform key (bucket names
/// cannot contain ':').
pub const SCRATCH_PREFIX: &str = "tflock-doctor:";

/// How long `terraform version` may take.
const TERRAFORM_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(global: &GlobalArgs, _args: &DoctorArgs, reporter: &Reporter) -> Result<u8> {
    let timing = Timing::resolve(global, None)?;
    let workdir = std::env::current_dir()
        .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?;
    let rt = runtime()?;
    let mut report = Report::default();
    match check_backend(global, &workdir, &mut report) {
        Some(target) => rt.block_on(check_aws(&target, timing.lease, &mut report)),
        None => report.skip_all(
            AWS_CHECKS,
            "cannot run: no lock table to check (see the backend check)",
        ),
    }
    rt.block_on(check_terraform(global, &mut report));
    print(&report, reporter);

    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.name)
        .collect();
    if failed.is_empty() {
        return Ok(0);
    }
    let summary = format!(
        "doctor: {} check{} failed: {}",
        failed.len(),
        if failed.len() == 1 { "" } else { "s" },
        failed.join(", ")
    );
    // DESIGN §7: the service unreachable or refusing us is 69; anything else
    // doctor finds wrong is configuration, 78.
    if failed.contains(&CREDENTIALS) {
        Err(Error::Unavailable(summary))
    } else {
        Err(Error::config(summary))
    }
}

fn print(report: &Report, reporter: &Reporter) {
    let mut out = std::io::stdout().lock();
    if reporter.json() {
        let v: Vec<_> = report
            .checks
            .iter()
            .map(|c| json!({"check": c.name, "status": c.status.as_str(), "detail": c.detail}))
            .collect();
        let _ = writeln!(out, "{:#}", serde_json::Value::Array(v));
        return;
    }
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for c in &report.checks {
        let _ = writeln!(
            out,
            "{}  {:<width$}  {}",
            c.status.as_str(),
            c.name,
            c.detail
        );
    }
    let count = |s: Status| report.checks.iter().filter(|c| c.status == s).count();
    let _ = writeln!(
        out,
        "{} checks: {} pass, {} warn, {} fail, {} skip",
        report.checks.len(),
        count(Status::Pass),
        count(Status::Warn),
        count(Status::Fail),
        count(Status::Skip)
    );
}

/// Check 1: which lock, in which table, reached how; the same resolution as
/// a guarded run (flags > environment > backend).
fn check_backend(global: &GlobalArgs, workdir: &Path, report: &mut Report) -> Option<Target> {
    let backend = match settings::read_backend(workdir, &process_env) {
        Ok(b) => b,
        Err(e) => {
            report.add(BACKEND, Status::Fail, e.to_string());
            return None;
        }
    };
    let target = match Target::resolve(global, workdir, &process_env) {
        Ok(t) => t,
        Err(e) => {
            report.add(BACKEND, Status::Fail, e.to_string());
            return None;
        }
    };
    let from = global
        .origins
        .get("table")
        .map_or_else(|| "--table".to_string(), |o| o.to_string());
    let mut status = Status::Pass;
    let detail = match &backend {
        Backend::S3(b) => {
            let mut d = format!(
                "s3: bucket {}, state {} (workspace {}), table {}",
                b.bucket,
                b.state_path,
                b.workspace,
                b.dynamodb_table.as_deref().unwrap_or("none")
            );
            match &b.dynamodb_table {
                // Leases in two tables do not exclude each other: everyone
                // who runs tflock on this state must make the same choice.
                Some(t) if *t != target.table => {
                    status = Status::Warn;
                    d.push_str(&format!(
                        "; the lease goes to table {} (set by {from}), not next to terraform's own lock: \
                         a tflock run without that setting keeps its lease in {t} and does not wait for this one",
                        target.table
                    ));
                }
                Some(_) => {}
                None => d.push_str(&format!(
                    "; the lease goes to table {} (set by {from})",
                    target.table
                )),
            }
            d.push_str(&format!("; lock key {}", target.lock_key));
            if let Some(why) = crate::aws::unassumed_web_identity(&target.aws, &process_env) {
                status = Status::Warn;
                d.push_str(&format!("; {why}"));
            }
            d
        }
        Backend::Other { kind } => format!(
            "\"{kind}\" (not s3): using table {} and lock key {} from --table/--lock-key",
            target.table, target.lock_key
        ),
        Backend::None => format!(
            "no terraform backend here: using table {} and lock key {} from --table/--lock-key",
            target.table, target.lock_key
        ),
    };
    report.add(BACKEND, status, detail);
    Some(target)
}

/// Why a DynamoDB request failed, as the checks need to know it.
enum Failure {
    /// The service answered that the table does not exist (so it accepted
    /// the credentials).
    NotFound,
    /// No credentials, or the service refused them.
    Credentials,
    /// The service answered with another error.
    Service(String),
    /// No answer at all (network, timeout).
    Unreachable,
}

fn classify<E>(err: &SdkError<E>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let SdkError::ServiceError(se) = err {
        return match se.err().code() {
            Some("ResourceNotFoundException") => Failure::NotFound,
            Some(code) if aws::REFUSALS.contains(&code) => Failure::Credentials,
            code => Failure::Service(code.unwrap_or("UnknownError").to_string()),
        };
    }
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if e.is::<CredentialsError>() {
            return Failure::Credentials;
        }
        next = e.source();
    }
    Failure::Unreachable
}

/// Checks 2 to 6: everything that needs AWS.
async fn check_aws(target: &Target, lease: Duration, report: &mut Report) {
    let aws = match aws::load(&target.aws).await {
        Ok(aws) => aws,
        Err(e) => {
            report.add(TABLE, Status::Fail, e.to_string());
            report.skip_all(
                &AWS_CHECKS[1..],
                "cannot run: AWS is not configured (see the table check)",
            );
            return;
        }
    };
    let dynamo = aws.dynamo();
    let table = target.table.as_str();

    // 2 and 3: one DescribeTable tells whether the table exists and is
    // usable, and whether the credentials are accepted.
    let described = dynamo
        .client
        .describe_table()
        .table_name(table)
        .send()
        .await;
    let mut table_usable = false;
    // Whether DynamoDB answered at all (the clock check needs an answer).
    let answered = matches!(
        &described,
        Ok(_) | Err(SdkError::ServiceError(_) | SdkError::ResponseError(_))
    );
    let (table_check, credentials_check) = match &described {
        Ok(out) => {
            let credentials = (
                Status::Pass,
                format!("accepted by {}: DescribeTable succeeded", dynamo.place),
            );
            let table_check = match out.table() {
                None => (
                    Status::Fail,
                    format!(
                        "{} described table {table} without its details",
                        dynamo.place
                    ),
                ),
                Some(t) => {
                    let schema = key_schema(t);
                    if schema != LOCK_KEY_SCHEMA {
                        (Status::Fail, wrong_schema(table, &schema).to_string())
                    } else {
                        table_usable = true;
                        match t.table_status() {
                            Some(TableStatus::Active) | None => (
                                Status::Pass,
                                format!("{table} in {}: key {schema}, ACTIVE", dynamo.place),
                            ),
                            Some(other) => (
                                Status::Warn,
                                format!(
                                    "{table} in {}: key {schema}, but {} (not ACTIVE yet?)",
                                    dynamo.place,
                                    other.as_str()
                                ),
                            ),
                        }
                    }
                }
            };
            (table_check, credentials)
        }
        Err(e) => {
            let text =
                aws::failure(&dynamo, table, &format!("describe table {table}"), e).to_string();
            match classify(e) {
                Failure::NotFound => (
                    (Status::Fail, text),
                    (
                        Status::Pass,
                        format!(
                            "accepted by {}: it answered that the table does not exist",
                            dynamo.place
                        ),
                    ),
                ),
                Failure::Credentials => (
                    (
                        Status::Skip,
                        "cannot be checked: the request was not allowed (see credentials)".into(),
                    ),
                    (Status::Fail, text),
                ),
                Failure::Service(code) => (
                    (Status::Fail, text),
                    (
                        Status::Skip,
                        format!("not proven: DynamoDB answered {code}"),
                    ),
                ),
                Failure::Unreachable => (
                    (Status::Fail, text),
                    (
                        Status::Skip,
                        "not proven: DynamoDB could not be reached (see the table check)".into(),
                    ),
                ),
            }
        }
    };
    let why_not_usable = match table_check.0 {
        Status::Skip => "cannot run: the credentials failed (see the credentials check)",
        _ => "cannot run: the table is not usable (see the table check)",
    };
    report.add(TABLE, table_check.0, table_check.1);

    if table_usable {
        let (status, detail) = check_ttl(&dynamo, table).await;
        report.add(TTL, status, detail);
    } else {
        report.add(TTL, Status::Skip, why_not_usable);
    }
    report.add(CREDENTIALS, credentials_check.0, credentials_check.1);

    // 4. A scratch write, as the lease writes (a conditional UpdateItem).
    if table_usable {
        let (status, detail) = check_write(&dynamo, table).await;
        report.add(LOCK_WRITE, status, detail);
    } else {
        report.add(LOCK_WRITE, Status::Skip, why_not_usable);
    }

    // 5. The state bucket.
    match &target.state {
        Some((bucket, key)) => check_bucket(&aws.s3(), bucket, key, report).await,
        None => report.skip_all(
            &[BUCKET, VERSIONING, ENCRYPTION],
            "no s3 backend: no state bucket to check",
        ),
    }

    // 6. The clock.
    if answered {
        let (status, detail) = check_clock(&dynamo, table, lease).await;
        report.add(CLOCK, status, detail);
    } else {
        report.add(
            CLOCK,
            Status::Skip,
            "cannot run: no answer from DynamoDB (see the table and credentials checks)",
        );
    }
}

async fn check_ttl(dynamo: &Dynamo, table: &str) -> (Status, String) {
    let described = match dynamo
        .client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            return (
                Status::Warn,
                aws::failure(dynamo, table, &format!("read the TTL of table {table}"), &e)
                    .to_string(),
            );
        }
    };
    match Ttl::of(described.time_to_live_description()) {
        Ttl::Ours { enabling: false } => (Status::Pass, format!("enabled on {}", attr::GC_AT)),
        Ttl::Ours { enabling: true } => (Status::Pass, format!("being enabled on {}", attr::GC_AT)),
        Ttl::Other(other) => (
            Status::Warn,
            format!(
                "the table's TTL is on {other}, not {}: abandoned leases will never be \
                 garbage-collected (a table has one TTL; tflock leaves yours alone)",
                attr::GC_AT
            ),
        ),
        Ttl::Off { .. } => (
            Status::Warn,
            format!(
                "no TTL on {}: abandoned leases will never be garbage-collected; \
                 `tflock setup --table {table}` enables it",
                attr::GC_AT
            ),
        ),
    }
}

/// Writes and removes a scratch item: the write is a conditional UpdateItem,
/// like every lease write; the item carries a `gc_at` an hour ahead, so the
/// TTL collects it should its removal fail.
async fn check_write(dynamo: &Dynamo, table: &str) -> (Status, String) {
    let key = format!("{SCRATCH_PREFIX}{}", uuid::Uuid::new_v4());
    let gc_at = (Utc::now() + chrono::Duration::hours(1)).timestamp();
    let values = HashMap::from([
        (":gc".to_string(), AttributeValue::N(gc_at.to_string())),
        (
            ":note".to_string(),
            AttributeValue::S("scratch item of tflock doctor; safe to delete".into()),
        ),
    ]);
    let written = dynamo
        .client
        .update_item()
        .table_name(table)
        .key(attr::KEY, AttributeValue::S(key.clone()))
        .update_expression("SET #gc = :gc, #note = :note")
        .condition_expression("attribute_not_exists(#key)")
        .expression_attribute_names("#key", attr::KEY)
        .expression_attribute_names("#gc", attr::GC_AT)
        .expression_attribute_names("#note", "note")
        .set_expression_attribute_values(Some(values))
        .send()
        .await;
    if let Err(e) = written {
        return (
            Status::Fail,
            aws::failure(dynamo, table, &format!("write the scratch item {key}"), &e).to_string(),
        );
    }
    let removed = dynamo
        .client
        .delete_item()
        .table_name(table)
        .key(attr::KEY, AttributeValue::S(key.clone()))
        .send()
        .await;
    match removed {
        Ok(_) => (
            Status::Pass,
            format!("wrote and removed the scratch item {key}"),
        ),
        // Guarded runs need no DeleteItem (only --takeover-stale and
        // force-unlock do, docs/iam.md): a warning, not a failure.
        Err(e) => (
            Status::Warn,
            format!(
                "wrote the scratch item {key} but could not remove it ({}): guarded runs need no \
                 dynamodb:DeleteItem, --takeover-stale and force-unlock do (docs/iam.md); remove \
                 the item by hand (it carries a {} time for a TTL on that attribute)",
                aws::failure(dynamo, table, &format!("remove the scratch item {key}"), &e),
                attr::GC_AT
            ),
        ),
    }
}

async fn check_bucket(s3: &aws::S3, bucket: &str, key: &str, report: &mut Report) {
    match s3.client.head_bucket().bucket(bucket).send().await {
        Ok(_) => report.add(
            BUCKET,
            Status::Pass,
            format!("{bucket} exists in {} (state {key})", s3.place),
        ),
        Err(e) => {
            let detail = if setup::bucket_missing(&e) {
                format!(
                    "bucket {bucket} does not exist in {}: terraform cannot store its state",
                    s3.place
                )
            } else {
                aws::request_failure(&s3.place, &format!("check bucket {bucket}"), &e).to_string()
            };
            report.add(BUCKET, Status::Fail, detail);
            report.skip_all(
                &[VERSIONING, ENCRYPTION],
                "cannot run: the bucket is not usable (see the bucket check)",
            );
            return;
        }
    }

    match setup::bucket_versioning(s3, bucket).await {
        Ok("enabled") => report.add(VERSIONING, Status::Pass, "enabled"),
        Ok(text) => report.add(
            VERSIONING,
            Status::Warn,
            format!("{text}: enable versioning so a bad write can be rolled back"),
        ),
        Err(e) => report.add(VERSIONING, Status::Warn, e.to_string()),
    }

    match s3
        .client
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => {
            let algorithms: Vec<String> = out
                .server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.apply_server_side_encryption_by_default())
                .map(|d| match d.kms_master_key_id() {
                    Some(k) => format!("{} ({k})", d.sse_algorithm().as_str()),
                    None => d.sse_algorithm().as_str().to_string(),
                })
                .collect();
            if algorithms.is_empty() {
                report.add(ENCRYPTION, Status::Warn, "no default encryption");
            } else {
                report.add(
                    ENCRYPTION,
                    Status::Pass,
                    format!("default encryption {}", algorithms.join(", ")),
                );
            }
        }
        Err(e)
            if e.code() == Some("ServerSideEncryptionConfigurationNotFoundError")
                || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
        {
            report.add(
                ENCRYPTION,
                Status::Warn,
                "no default encryption: the state (which may hold secrets) is stored unencrypted",
            )
        }
        Err(e) => report.add(
            ENCRYPTION,
            Status::Warn,
            aws::request_failure(
                &s3.place,
                &format!("read the default encryption of bucket {bucket}"),
                &e,
            )
            .to_string(),
        ),
    }
}

/// What the clock probe saw of one request: when it left, when its answer
/// came, and the answer's `Date` header. Filled by [`DateProbe`]; a retried
/// request keeps its last attempt.
#[derive(Debug, Default)]
struct Probe {
    sent: Option<(DateTime<Utc>, Instant)>,
    received: Option<Instant>,
    date: Option<String>,
}

/// An interceptor on one request: the SDK exposes no response headers on
/// success, and the `Date` header is the only clock DynamoDB shows.
#[derive(Debug, Clone, Default)]
struct DateProbe(Arc<Mutex<Probe>>);

impl DateProbe {
    fn with<T>(&self, f: impl FnOnce(&mut Probe) -> T) -> T {
        // A poisoned lock still holds the values written before the panic.
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

impl Intercept for DateProbe {
    fn name(&self) -> &'static str {
        "tflock-doctor-date-probe"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.with(|p| {
            p.sent = Some((Utc::now(), Instant::now()));
            p.received = None;
            p.date = None;
        });
        Ok(())
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let received = Instant::now();
        let date = context.response().headers().get("date").map(str::to_string);
        self.with(|p| {
            p.received = Some(received);
            p.date = date;
        });
        Ok(())
    }
}

/// The clock offset: service time minus local time, estimated from a `Date`
/// header (whole seconds, truncated) against the local midpoint of the
/// request. Half a second is added to the header's time, the middle of the
/// second it names.
pub fn clock_offset(
    date_header: &str,
    sent: DateTime<Utc>,
    round_trip: Duration,
) -> Option<chrono::Duration> {
    let service = DateTime::parse_from_rfc2822(date_header.trim())
        .ok()?
        .with_timezone(&Utc);
    let midpoint = sent + chrono::Duration::from_std(round_trip / 2).ok()?;
    Some(service + chrono::Duration::milliseconds(500) - midpoint)
}

/// pass below lease/4, warn below the lease, fail from there; never on
/// less than the measurement can tell (±1 s): pass below 2 s, fail from 3 s.
pub fn judge_offset(offset: chrono::Duration, lease: Duration) -> (Status, String) {
    let magnitude = offset.abs().to_std().unwrap_or_default();
    let pass_below = (lease / 4).max(Duration::from_secs(2));
    let fail_from = lease.max(Duration::from_secs(3));
    let secs = (offset.num_milliseconds() as f64 / 1000.0).round() as i64;
    let relation = match secs {
        0 => "agrees with DynamoDB's".to_string(),
        s if s > 0 => format!("is {s}s behind DynamoDB's"),
        s => format!("is {}s ahead of DynamoDB's", -s),
    };
    let measured = format!(
        "this machine's clock {relation}: offset ≈ {secs:+}s (±1s: the Date header has 1 s resolution)"
    );
    if magnitude < pass_below {
        (Status::Pass, measured)
    } else if magnitude < fail_from {
        (
            Status::Warn,
            format!(
                "{measured}: at least a quarter of the lease ({}); times in lock records and \
                 status are off by as much (staleness is still decided by observation); \
                 synchronise this clock (NTP)",
                duration::format(lease)
            ),
        )
    } else {
        (
            Status::Fail,
            format!(
                "{measured}: at least the lease ({}); synchronise this clock (NTP)",
                duration::format(lease)
            ),
        )
    }
}

async fn check_clock(dynamo: &Dynamo, table: &str, lease: Duration) -> (Status, String) {
    let probe = DateProbe::default();
    // Any answer carries the header, an error (a missing table) too.
    let result = dynamo
        .client
        .describe_table()
        .table_name(table)
        .customize()
        .interceptor(probe.clone())
        .send()
        .await;
    let (sent, received, date) = probe.with(|p| (p.sent, p.received, p.date.clone()));
    let (Some((sent_wall, sent_at)), Some(received)) = (sent, received) else {
        let why = match result {
            Err(e) => {
                aws::failure(dynamo, table, &format!("describe table {table}"), &e).to_string()
            }
            Ok(_) => "the request's timing was not observed".into(),
        };
        return (
            Status::Warn,
            format!("cannot measure the clock offset: {why}"),
        );
    };
    let Some(date) = date else {
        return (
            Status::Warn,
            "cannot measure the clock offset: DynamoDB's answer has no Date header".into(),
        );
    };
    let round_trip = received.saturating_duration_since(sent_at);
    match clock_offset(&date, sent_wall, round_trip) {
        Some(offset) => judge_offset(offset, lease),
        None => (
            Status::Warn,
            format!("cannot measure the clock offset: unreadable Date header {date:?}"),
        ),
    }
}

/// Check 7: the terraform program, found, and its version.
async fn check_terraform(global: &GlobalArgs, report: &mut Report) {
    let program = global
        .terraform_bin
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| OsString::from("terraform"));
    let path_var = std::env::var_os("PATH");
    let path = match crate::supervise::child::resolve(&program, path_var.as_deref()) {
        Ok(path) => path,
        Err(e) => {
            report.add(
                TERRAFORM,
                Status::Fail,
                format!("{e}; set --terraform-bin or TFLOCK_TERRAFORM to the terraform program"),
            );
            return;
        }
    };
    let shown = path.display().to_string();
    let run = tokio::process::Command::new(&path)
        .args(["version", "-json"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(TERRAFORM_TIMEOUT, run).await {
        Err(_) => {
            report.add(
                TERRAFORM,
                Status::Warn,
                format!(
                    "{shown}: `version -json` did not answer within {}",
                    duration::format(TERRAFORM_TIMEOUT)
                ),
            );
            return;
        }
        Ok(Err(e)) => {
            report.add(
                TERRAFORM,
                Status::Fail,
                format!("{shown}: cannot run it: {e}"),
            );
            return;
        }
        Ok(Ok(out)) => out,
    };
    let version = serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|v| v.get("terraform_version")?.as_str().map(str::to_string));
    match version {
        Some(v) if out.status.success() => {
            report.add(TERRAFORM, Status::Pass, format!("terraform {v} ({shown})"))
        }
        _ => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            report.add(
                TERRAFORM,
                Status::Warn,
                format!(
                    "{shown}: `version -json` gave no terraform_version ({}{}{})",
                    out.status,
                    if first.is_empty() { "" } else { ": " },
                    first.trim()
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn offset_from_a_date_header() {
        // Sent at 10:00:00.2, answered 200 ms later: midpoint 10:00:00.3;
        // the header says 10:00:00, i.e. somewhere in [0, 1): ≈ +0.2 s.
        let off = clock_offset(
            "Thu, 26 Nov 2026 10:00:00 GMT",
            at("2026-11-26T10:00:00.200Z"),
            Duration::from_millis(200),
        )
        .unwrap();
        assert_eq!(off.num_milliseconds(), 200);
        // This machine 10 s ahead.
        let off = clock_offset(
            "Thu, 26 Nov 2026 10:00:00 GMT",
            at("2026-11-26T10:00:10.400Z"),
            Duration::from_millis(200),
        )
        .unwrap();
        assert_eq!(off.num_seconds(), -10);
        assert!(clock_offset("yesterday", Utc::now(), Duration::ZERO).is_none());
    }

    #[test]
    fn offsets_are_judged_against_the_lease() {
        let lease = Duration::from_secs(30);
        let (s, d) = judge_offset(chrono::Duration::milliseconds(300), lease);
        assert_eq!(s, Status::Pass);
        assert!(d.contains("≈ +0s (±1s"), "{d}");
        let (s, d) = judge_offset(chrono::Duration::seconds(-10), lease);
        assert_eq!(s, Status::Warn);
        assert!(d.contains("≈ -10s") && d.contains("10s ahead"), "{d}");
        let (s, d) = judge_offset(chrono::Duration::seconds(45), lease);
        assert_eq!(s, Status::Fail);
        assert!(d.contains("45s behind"), "{d}");
        // A short lease: the measurement's ±1 s is no skew.
        let short = Duration::from_secs(2);
        let judged = |ms| judge_offset(chrono::Duration::milliseconds(ms), short).0;
        assert_eq!(judged(1_400), Status::Pass);
        assert_eq!(judged(2_500), Status::Warn);
        assert_eq!(judged(-3_200), Status::Fail);
    }
}
