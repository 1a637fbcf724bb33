//! `tflock state ack` and `tflock state versions`: the state guard's own
//! commands, beside terraform's `state` subcommands (which terraform has no
//! `ack` or `versions` of).

use std::io::Write;

use clap::{Parser, Subcommand};
use serde_json::json;

use super::runtime;
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::history::{Event, History, Kind};
use crate::lock::{Acknowledge, LeaseTable};
use crate::output::Reporter;
use crate::settings::{Target, Timing, process_env};
use crate::state::{self, Seen};

#[derive(Debug, Parser)]
#[command(name = "tflock state", disable_help_subcommand = true)]
pub struct StateCli {
    #[command(subcommand)]
    pub action: StateAction,

    /// Output format (also accepted here, after `state`)
    #[arg(long, value_enum, global = true, value_name = "FORMAT")]
    pub output: Option<crate::cli::OutputFormat>,
}

#[derive(Debug, Subcommand)]
pub enum StateAction {
    /// Accept the state as it is now after a write outside the lock (clears --strict's refusal)
    Ack {
        /// Why, for the history
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// The state object's versions (versioned buckets), with serial and lineage
    Versions {
        /// How many, newest first (1 to 1000: one listing page)
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=1000))]
        limit: u16,
    },
}

/// Whether a terraform command line is one of ours (`state ack`, `state
/// versions`), also after terraform's global options (`-chdir=DIR state
/// ack`) and with `--output FORMAT` before the subcommand.
pub fn is_ours(args: &[std::ffi::OsString]) -> bool {
    let words = crate::terraform::command_words(args);
    words.first().is_some_and(|w| w == "state")
        && subcommand(&words[1..]).is_some_and(|w| w == "ack" || w == "versions")
}

/// The first word after `state` that is neither a flag nor the value of
/// `--output`.
fn subcommand(after_state: &[String]) -> Option<&String> {
    let mut value_next = false;
    after_state.iter().find(|w| {
        let skip = value_next || w.starts_with('-');
        value_next = w.as_str() == "--output";
        !skip
    })
}

pub fn run(global: &GlobalArgs, args: &[std::ffi::OsString], reporter: &Reporter) -> Result<u8> {
    // terraform's `-chdir` (the only global option that reaches here):
    // this command is about that directory's state.
    if let Some(dir) = crate::terraform::chdir(args)? {
        std::env::set_current_dir(&dir).map_err(|e| Error::config(format!("-chdir={dir}: {e}")))?;
    }
    let words = crate::terraform::command_words(args);
    let cli = match StateCli::try_parse_from(
        std::iter::once("tflock state".to_string()).chain(words[1..].iter().cloned()),
    ) {
        Ok(cli) => cli,
        // `tflock state ack --help` is a request, not a mistake.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return Ok(0);
        }
        Err(e) => {
            let text = e.render().to_string();
            return Err(Error::usage(
                text.lines()
                    .next()
                    .unwrap_or("invalid command line")
                    .trim_start_matches("error: ")
                    .to_string(),
            ));
        }
    };
    let local;
    let reporter = match cli.output {
        Some(format) => {
            let mut g = global.clone();
            g.output = Some(format);
            local = Reporter::new(&g);
            &local
        }
        None => reporter,
    };
    let workdir = std::env::current_dir()
        .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?;
    let target = Target::resolve(global, &workdir, &process_env)?;
    let Some((bucket, key)) = target.state.clone() else {
        return Err(Error::config(
            "no state object to guard: tflock state needs the s3 backend of a terraform directory",
        ));
    };
    let timing = Timing::resolve(global, None)?;
    runtime()?.block_on(async {
        let aws = crate::aws::load(&target.aws).await?;
        let s3 = aws.s3();
        match cli.action {
            StateAction::Ack { reason } => {
                let dynamo = aws.dynamo();
                let table = LeaseTable::new(dynamo.clone(), &target.table, &target.lock_key);
                let who = format!(
                    "{}@{}",
                    crate::holder::user_name(&process_env),
                    crate::holder::host_name()
                );
                // The lease first, then the state, then the write, on the
                // condition that no run took the lock since the lease was
                // read: one that did (and released it) left a newer
                // baseline than what we saw. Then both are read again.
                let mut tries = 0;
                let (previous, now) = loop {
                    let Some(previous) = table.read().await.map_err(|e| e.error)? else {
                        say(reporter, &json!({"acknowledged": null}), &format!(
                            "nothing to acknowledge: {} has never been taken with tflock",
                            target.lock_key
                        ));
                        return Ok(0);
                    };
                    let now = state::observe(&s3, &bucket, &key, None).await?;
                    match table.acknowledge(&now, previous.fence).await.map_err(|e| e.error)? {
                        Acknowledge::Done => break (previous, now),
                        // A run holds it (and will compare the state
                        // itself): "held", 75, like any other command that
                        // finds it so.
                        Acknowledge::Held(holder) => {
                            return Err(Error::LockHeld {
                                lock_key: target.lock_key.clone(),
                                holder: format!(
                                    "{}: acknowledge once it is free",
                                    holder.describe_holder()
                                ),
                                waited: std::time::Duration::ZERO,
                            });
                        }
                        Acknowledge::Moved if tries < 3 => tries += 1,
                        Acknowledge::Moved => {
                            return Err(Error::Unavailable(format!(
                                "runs kept taking {} while its state was read; try again",
                                target.lock_key
                            )));
                        }
                    }
                };
                let mut event = Event::new(Kind::StateAck, &target.lock_key, &who);
                event.state_before = previous.state_seen.as_ref().map(state::reference);
                event.state_after = Some(state::reference(&now));
                event.reason = reason;
                History::new(dynamo, &target.table, timing.history_retention)
                    .record(&event)
                    .await?;
                say(reporter, &json!({"acknowledged": now}), &format!(
                    "acknowledged the state of {} as it is now ({}); the next run compares with this",
                    target.lock_key,
                    now.summary()
                ));
                Ok(0)
            }
            StateAction::Versions { limit } => {
                let versions = list_versions(&s3, &bucket, &key, limit).await?;
                if reporter.json() {
                    say(reporter, &json!(versions), "");
                    return Ok(0);
                }
                let mut out = format!("{:<34} {:<20} {:>10} {:>7}  LINEAGE\n", "VERSION", "MODIFIED", "SIZE", "SERIAL");
                for v in &versions {
                    let seen = v.get("seen").cloned().unwrap_or_default();
                    let snap: Option<Seen> = serde_json::from_value(seen).ok();
                    let s = snap.as_ref().and_then(Seen::snapshot);
                    out.push_str(&format!(
                        "{:<34} {:<20} {:>10} {:>7}  {}{}\n",
                        v["version_id"].as_str().unwrap_or("-"),
                        s.and_then(|s| s.last_modified).map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string()).unwrap_or_default(),
                        s.and_then(|s| s.size).map(|n| n.to_string()).unwrap_or_default(),
                        s.and_then(|s| s.serial).map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
                        s.and_then(|s| s.lineage.clone()).unwrap_or_default(),
                        if v["latest"].as_bool() == Some(true) { "  (current)" } else { "" },
                    ));
                }
                if versions.is_empty() {
                    out.push_str("no versions: the bucket keeps none (enable versioning), or there is no state yet\n");
                }
                let _ = std::io::stdout().write_all(out.as_bytes());
                Ok(0)
            }
        }
    })
}

fn say(reporter: &Reporter, value: &serde_json::Value, text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = if reporter.json() {
        writeln!(out, "{value:#}")
    } else {
        writeln!(out, "{text}")
    };
}

/// The newest `limit` versions of the state object, each read for its serial.
async fn list_versions(
    s3: &crate::aws::S3,
    bucket: &str,
    key: &str,
    limit: u16,
) -> Result<Vec<serde_json::Value>> {
    let out = s3
        .client
        .list_object_versions()
        .bucket(bucket)
        .prefix(key)
        // The state's own versions sort first (its key is a prefix of the
        // lockfile's and the backups'), newest first: one page holds them.
        .max_keys(i32::from(limit))
        .send()
        .await
        .map_err(|e| {
            crate::aws::request_failure(
                &s3.place,
                &format!("list the versions of s3://{bucket}/{key}"),
                &e,
            )
        })?;
    let mut versions = Vec::new();
    for v in out
        .versions()
        .iter()
        .filter(|v| v.key() == Some(key))
        .take(usize::from(limit))
    {
        let Some(id) = v.version_id().filter(|id| *id != "null") else {
            continue;
        };
        let seen = state::observe(s3, bucket, key, Some(id)).await?;
        versions.push(json!({"version_id": id, "latest": v.is_latest(), "seen": seen}));
    }
    Ok(versions)
}
