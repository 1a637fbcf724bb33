//! `tflock status`: who holds the lock, since when, and terraform's own lock
//! item for the same state (DESIGN §8).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::runtime;
use crate::aws;
use crate::cli::{GlobalArgs, StatusArgs};
use crate::duration;
use crate::error::{Error, Result};
use crate::lock::record::shown;
use crate::lock::{LeaseRecord, LeaseTable, TerraformLock};
use crate::output::Reporter;
use crate::settings::{Target, process_env};

pub fn run(global: &GlobalArgs, args: &StatusArgs, reporter: &Reporter) -> Result<u8> {
    if args.all {
        return all(global, reporter);
    }
    let workdir = std::env::current_dir()
        .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?;
    let target = Target::resolve(global, &workdir, &process_env)?;
    let (lease, native, state, lockfile) = runtime()?.block_on(async {
        let aws = aws::load(&target.aws).await?;
        let table = LeaseTable::new(aws.dynamo(), &target.table, &target.lock_key);
        let read_state = async {
            match &target.state {
                // Best effort: the lock is what status is about.
                Some((bucket, key)) => crate::state::observe(&aws.s3(), bucket, key, None)
                    .await
                    .ok(),
                None => None,
            }
        };
        let (lease, state) = tokio::join!(table.read(), read_state);
        let lease = lease.map_err(|e| e.error)?;
        let native = match &target.terraform_lock {
            Some((t, id)) => table
                .read_terraform_lock(t, id)
                .await
                .map_err(|e| e.error)?,
            None => None,
        };
        // `Err`: there is one to read, and it could not be read.
        let lockfile = match &target.lockfile {
            Some((bucket, key)) => crate::lock::lockfile::read(&aws.s3(), bucket, key)
                .await
                .map_err(|_| ()),
            None => Ok(None),
        };
        Ok::<_, Error>((lease, native, state, lockfile))
    })?;
    let now = Utc::now();
    // Written outside the lock: it differs from what the last release saw,
    // while nobody holds the lock (a holder's own terraform writes it).
    let changed_outside = match (&lease, &state) {
        (Some(r), Some(now_seen)) if !r.is_held() => {
            r.state_seen
                .as_ref()
                .and_then(|seen| match crate::state::compare(seen, now_seen) {
                    crate::state::Change::Unchanged => Some(false),
                    crate::state::Change::Written { .. } => Some(true),
                    // Remembered of another object: nothing to say.
                    crate::state::Change::OtherObject => None,
                })
        }
        _ => None,
    };
    let text = if reporter.json() {
        let mut v = status_json(
            &target.lock_key,
            &target.table,
            lease.as_ref(),
            native.as_ref(),
            now,
        );
        if let Value::Object(map) = &mut v {
            map.insert(
                "terraform_lock_id".into(),
                json!(target.terraform_lock.as_ref().map(|(_, id)| id)),
            );
            match &lockfile {
                Ok(Some(_)) => {
                    map.insert("locked".into(), json!(true));
                }
                // Not known: the lease is free, terraform's lockfile unread.
                Err(()) if map.get("locked") == Some(&json!(false)) => {
                    map.insert("locked".into(), Value::Null);
                }
                _ => {}
            }
            if target.lockfile.is_some() {
                map.insert(
                    "terraform_lockfile".into(),
                    match &lockfile {
                        Ok(Some(f)) => json!(f.lock),
                        _ => Value::Null,
                    },
                );
            }
            let snapshot = state.as_ref().and_then(crate::state::Seen::snapshot);
            map.insert(
                "state".into(),
                match (&state, snapshot) {
                    (None, _) => Value::Null,
                    (Some(_), None) => {
                        json!({"object": "missing", "changed_outside_lock": changed_outside})
                    }
                    (Some(_), Some(s)) => json!({
                        "etag": s.etag,
                        "version_id": s.version_id,
                        "last_modified": time(s.last_modified),
                        "size": s.size,
                        "serial": s.serial,
                        "lineage": s.lineage,
                        "not_json": s.not_json,
                        "changed_outside_lock": changed_outside,
                    }),
                },
            );
        }
        format!("{v:#}\n")
    } else {
        let mut text = status_text(
            &target.lock_key,
            &target.table,
            lease.as_ref(),
            native.as_ref(),
            now,
        );
        if let Some((bucket, key)) = &target.lockfile {
            let line = match &lockfile {
                Ok(None) => format!("none (s3://{bucket}/{key})"),
                Err(()) => format!("could not be read (s3://{bucket}/{key})"),
                Ok(Some(f)) => f.lock.summary(),
            };
            text.push_str(&format!("{:<15} {line}\n", "tf lockfile"));
        }
        if let Some(seen) = &state {
            let line = match seen.snapshot() {
                None => "no state object yet".to_string(),
                Some(s) => format!(
                    "serial {}{}{}",
                    s.serial
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "?".into()),
                    s.version_id
                        .as_deref()
                        .map(|v| format!(", version {v}"))
                        .unwrap_or_default(),
                    if s.not_json {
                        ", NOT a terraform state"
                    } else {
                        ""
                    }
                ),
            };
            let flag = match changed_outside {
                Some(true) => " - WRITTEN OUTSIDE THE LOCK since the last tflock run",
                _ => "",
            };
            text.push_str(&format!("{:<15} {line}{flag}\n", "state"));
        }
        text
    };
    crate::output::print_report(&text)?;
    Ok(0)
}

fn time(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

/// The wall-clock expiry has passed: a hint that the holder may be dead, never
/// proof (its clock may be off); proof is `force-unlock --verify`'s business.
fn stale_hint(record: &LeaseRecord, now: DateTime<Utc>) -> bool {
    record.is_held() && record.expires_at.is_some_and(|e| e < now)
}

pub fn status_json(
    lock_key: &str,
    table: &str,
    lease: Option<&LeaseRecord>,
    native: Option<&TerraformLock>,
    now: DateTime<Utc>,
) -> Value {
    let terraform_lock = native.map(|n| serde_json::to_value(n).unwrap_or(Value::Null));
    // `held` is tflock's lease; `locked`, whether a run would have to wait:
    // the lease held, or terraform's own lock taken (a plain terraform).
    let locked = lease.is_some_and(LeaseRecord::is_held) || native.is_some();
    let mut v = match lease {
        None => json!({
            "lock_key": lock_key, "table": table, "held": false, "owner": null, "token": null,
            "fence": null, "pid": null, "host": null, "operation": null, "command": null, "ci_url": null,
            "acquired_at": null, "renewed_at": null, "expires_at": null, "released_at": null,
            "lease_seconds": null, "rvn": null, "terraform_lock": terraform_lock, "stale_hint": false, "queue": [],
            "released_by": null,
        }),
        Some(r) => json!({
            "lock_key": lock_key,
            "table": table,
            "held": r.is_held(),
            "owner": r.holder,
            "token": r.owner_token,
            "fence": r.fence,
            "pid": r.pid,
            "host": r.host,
            "operation": r.operation,
            "command": r.command,
            "ci_url": r.ci_url,
            "acquired_at": time(Some(r.acquired_at)),
            "renewed_at": time(r.renewed_at),
            "expires_at": time(r.expires_at),
            "released_at": time(r.released_at),
            "lease_seconds": r.lease.as_secs_f64(),
            "rvn": r.rvn,
            "terraform_lock": terraform_lock,
            "stale_hint": stale_hint(r, now),
            "queue": queue_json(r),
            "released_by": r.released_by,
        }),
    };
    v["locked"] = json!(locked);
    v
}

fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    match (now - t).to_std() {
        Ok(d) => format!("{} ago", duration::format(d)),
        Err(_) => format!(
            "in {}",
            duration::format((t - now).to_std().unwrap_or_default())
        ),
    }
}

pub fn status_text(
    lock_key: &str,
    table: &str,
    lease: Option<&LeaseRecord>,
    native: Option<&TerraformLock>,
    now: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    let mut row = |k: &str, v: String| out.push_str(&format!("{k:<15} {v}\n"));
    row("lock", format!("{lock_key} (table {table})"));
    match lease {
        None => row("status", "free (never taken with tflock)".into()),
        Some(r) if !r.is_held() => {
            let when = r
                .released_at
                .map(|t| format!(" {}", ago(t, now)))
                .unwrap_or_default();
            let by = r
                .released_by
                .as_ref()
                .map(|who| format!(" by {who}, not its holder"))
                .unwrap_or_default();
            row("status", format!("free (released{when}{by})"));
            row(
                "last holder",
                format!("{} ({}, fence {})", r.holder, r.operation, r.fence),
            );
        }
        Some(r) => {
            let held = (now - r.acquired_at).to_std().unwrap_or_default();
            row(
                "status",
                format!("held by {} for {}", r.holder, duration::format(held)),
            );
            row(
                "operation",
                format!("{} (pid {} on {})", r.operation, r.pid, r.host),
            );
            if !r.command.is_empty() {
                row("command", r.command.clone());
            }
            if let Some(url) = &r.ci_url {
                row("ci job", url.clone());
            }
            row("fence", r.fence.to_string());
            if !r.queue.waiters.is_empty() {
                let line: Vec<String> = r
                    .queue
                    .waiters
                    .values()
                    .map(|w| format!("{} ({}, pid {})", w.who, w.operation, w.pid))
                    .collect();
                row(
                    "waiting",
                    format!("{} in line: {}", line.len(), line.join(", ")),
                );
            }
            row("token", r.owner_token.clone());
            let beat = r
                .renewed_at
                .map(|t| format!(", last heartbeat {} (holder's clock)", ago(t, now)))
                .unwrap_or_default();
            row("lease", format!("{}{beat}", duration::format(r.lease)));
            if let Some(e) = r.expires_at {
                let hint = if stale_hint(r, now) {
                    " - the holder may be dead; `tflock force-unlock --verify` proves it before removing anything"
                } else {
                    ""
                };
                row(
                    "expires",
                    format!(
                        "{} ({}){hint}",
                        e.to_rfc3339_opts(SecondsFormat::Secs, true),
                        ago(e, now)
                    ),
                );
            }
        }
    }
    match native {
        None => row("terraform lock", "none".into()),
        Some(n) => row("terraform lock", n.summary()),
    }
    out
}

/// One row of `status --all`.
enum Row {
    Lease {
        lock_key: String,
        lease: Box<LeaseRecord>,
        native: Option<TerraformLock>,
    },
    /// A lease item that does not parse: shown, never hidden.
    Garbled { lock_key: String, why: String },
    /// terraform's own lock with no held lease beside it.
    Terraform(TerraformLock),
}

/// `tflock status --all`: every lease in the table, and terraform locks with
/// no lease beside them.
fn all(global: &GlobalArgs, reporter: &Reporter) -> Result<u8> {
    let workdir = std::env::current_dir()
        .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?;
    let (table_name, aws_settings, _) =
        crate::settings::resolve_table(global, &workdir, &process_env)?;
    let items = runtime()?.block_on(async {
        let dynamo = aws::connect(&aws_settings).await?;
        LeaseTable::new(dynamo, &table_name, "")
            .scan()
            .await
            .map_err(|e| e.error)
    })?;
    let rows = rows(&items);
    let now = Utc::now();
    let mut out = String::new();
    if reporter.json() {
        // A free lease beside terraform's own lock (its own row): a run
        // would wait all the same. (Lockfiles are not read here.)
        let terraform_locked: std::collections::HashSet<&str> = rows
            .iter()
            .filter_map(|r| match r {
                Row::Terraform(n) => Some(n.path_key.as_str()),
                _ => None,
            })
            .collect();
        let list: Vec<Value> = rows
            .iter()
            .map(|row| match row {
                Row::Lease {
                    lock_key,
                    lease,
                    native,
                } => {
                    let mut v =
                        status_json(lock_key, &table_name, Some(lease), native.as_ref(), now);
                    v["kind"] = json!("lease");
                    if terraform_locked.contains(lock_key.as_str()) {
                        v["locked"] = json!(true);
                    }
                    v
                }
                Row::Garbled { lock_key, why } => json!({
                    "kind": "unreadable", "lock_key": lock_key, "table": table_name, "error": why,
                }),
                Row::Terraform(n) => {
                    let mut v = status_json(&n.path_key, &table_name, None, Some(n), now);
                    v["kind"] = json!("terraform");
                    v["held"] = json!(true);
                    v["owner"] = json!(n.who);
                    v["operation"] = json!(n.operation);
                    v["acquired_at"] = json!(
                        n.created_at()
                            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
                    );
                    v
                }
            })
            .collect();
        out = format!("{:#}\n", Value::Array(list));
    } else {
        out.push_str(&format!(
            "{:<44} {:<9} {:<24} {:<14} {:>9} {:>10}\n",
            "LOCK", "STATUS", "HOLDER", "OPERATION", "HELD FOR", "HEARTBEAT"
        ));
        for row in &rows {
            let line = match row {
                Row::Lease {
                    lock_key,
                    lease,
                    native,
                } => {
                    let held_for = (now - lease.acquired_at).to_std().unwrap_or_default();
                    let beat = lease
                        .renewed_at
                        .and_then(|t| (now - t).to_std().ok())
                        .map(|d| format!("{} ago", duration::format(d)))
                        .unwrap_or_default();
                    let status = if !lease.is_held() {
                        "free"
                    } else if stale_hint(lease, now) {
                        "stale?"
                    } else {
                        "held"
                    };
                    let lock_key = shown(lock_key);
                    let mut line = if lease.is_held() {
                        format!(
                            "{lock_key:<44} {status:<9} {:<24} {:<14} {:>9} {beat:>10}",
                            lease.holder,
                            lease.operation,
                            duration::format(held_for)
                        )
                    } else {
                        format!(
                            "{lock_key:<44} {status:<9} (last: {}, fence {})",
                            lease.holder, lease.fence
                        )
                    };
                    if let Some(n) = native {
                        line.push_str(&format!("  + terraform lock {}", shown(&n.id)));
                    }
                    line
                }
                Row::Garbled { lock_key, why } => {
                    format!("{:<44} {:<9} {why}", shown(lock_key), "unreadable")
                }
                Row::Terraform(n) => {
                    let held_for = n
                        .created_at()
                        .and_then(|t| (now - t).to_std().ok())
                        .map(duration::format)
                        .unwrap_or_default();
                    format!(
                        "{:<44} {:<9} {:<24} {:<14} {held_for:>9} {:>10}",
                        shown(&n.path_key),
                        "terraform",
                        shown(&n.who),
                        shown(&n.operation),
                        "none"
                    )
                }
            };
            out.push_str(&line);
            out.push('\n');
        }
        if rows.iter().any(|r| matches!(r, Row::Terraform(_))) {
            out.push_str("\n\"terraform\": locked by terraform with no tflock lease: nothing proves whether its holder is alive\n");
        }
        if rows
            .iter()
            .any(|r| matches!(r, Row::Lease { lease, .. } if stale_hint(lease, now)))
        {
            out.push_str("\"stale?\": the holder's wall-clock expiry has passed, a hint only; `tflock force-unlock --verify` proves it\n");
        }
    }
    crate::output::print_report(&out)?;
    Ok(0)
}

/// Sorts the table's items into rows: leases (with terraform's lock for the
/// same state when present), unreadable lease items, and terraform locks
/// without a held lease. History and other tflock items are skipped.
fn rows(
    items: &[std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>],
) -> Vec<Row> {
    use crate::lock::record::{LEASE_KEY_PREFIX, attr};
    let key = |i: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
        i.get(attr::KEY)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let mut natives: std::collections::BTreeMap<String, TerraformLock> = items
        .iter()
        .filter(|i| {
            let k = key(i);
            !is_tflock_item(&k) && !k.ends_with("-md5") && i.contains_key("Info")
        })
        .map(|i| (key(i), TerraformLock::from_item(i)))
        .collect();
    let mut rows: Vec<Row> = Vec::new();
    for item in items {
        let k = key(item);
        let Some(lock_key) = k.strip_prefix(LEASE_KEY_PREFIX) else {
            continue;
        };
        match LeaseRecord::from_item(item) {
            Ok(lease) => {
                let native = if lease.is_held() {
                    natives.remove(lock_key)
                } else {
                    None
                };
                rows.push(Row::Lease {
                    lock_key: lock_key.to_string(),
                    lease: Box::new(lease),
                    native,
                });
            }
            Err(why) => rows.push(Row::Garbled {
                lock_key: lock_key.to_string(),
                why: why.to_string(),
            }),
        }
    }
    rows.extend(natives.into_values().map(Row::Terraform));
    rows.sort_by(|a, b| row_key(a).cmp(row_key(b)));
    rows
}

fn row_key(row: &Row) -> &str {
    match row {
        Row::Lease { lock_key, .. } | Row::Garbled { lock_key, .. } => lock_key,
        Row::Terraform(n) => &n.path_key,
    }
}

/// tflock's own items (leases, history, doctor's scratch item). Their
/// prefixes end in ':', which no S3 bucket name (the start of terraform's
/// keys) can contain.
fn is_tflock_item(key: &str) -> bool {
    ["tflock:", "tflock-history:", "tflock-doctor:"]
        .iter()
        .any(|p| key.starts_with(p))
}

/// The waiting line, first first.
fn queue_json(r: &LeaseRecord) -> Value {
    Value::Array(
        r.queue
            .waiters
            .iter()
            .map(|(ticket, w)| {
                json!({
                    "ticket": ticket, "who": w.who, "pid": w.pid, "operation": w.operation,
                    "since": time(w.since),
                })
            })
            .collect(),
    )
}
