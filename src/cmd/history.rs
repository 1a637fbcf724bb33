//! `tflock history`: the lock's events, oldest first.

use chrono::{DateTime, SecondsFormat, Utc};

use super::runtime;
use crate::cli::{GlobalArgs, HistoryArgs};
use crate::duration;
use crate::error::{Error, Result};
use crate::history::{Event, History, Kind};
use crate::output::Reporter;
use crate::settings::{Target, Timing, process_env, resolve_table};

/// Reads the events since `since` for this directory's lock, or every lock
/// of the table with `all`. Shared by `history` and `stats`.
pub fn load(global: &GlobalArgs, since: &str, all: bool) -> Result<(Vec<Event>, DateTime<Utc>)> {
    let back = crate::duration::parse(since).map_err(|e| Error::config(format!("--since: {e}")))?;
    let since = Utc::now() - crate::duration::to_chrono(back);
    let timing = Timing::resolve(global, None)?;
    let workdir = std::env::current_dir()
        .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?;
    let (table, aws, lock_key) = if all {
        let (table, aws, _) = resolve_table(global, &workdir, &process_env)?;
        (table, aws, None)
    } else {
        let target = Target::resolve(global, &workdir, &process_env)?;
        (target.table, target.aws, Some(target.lock_key))
    };
    let events = runtime()?.block_on(async {
        let dynamo = crate::aws::connect(&aws).await?;
        let history = History::new(dynamo, &table, timing.history_retention);
        match &lock_key {
            Some(key) => history.read(key, since).await,
            None => history.read_all(since).await,
        }
    })?;
    Ok((events, since))
}

pub fn run(global: &GlobalArgs, args: &HistoryArgs, reporter: &Reporter) -> Result<u8> {
    let (events, since) = load(global, &args.since, args.all)?;
    let text = if reporter.json() {
        format!(
            "{:#}\n",
            serde_json::to_value(&events).map_err(|e| Error::Internal(e.to_string()))?
        )
    } else if events.is_empty() {
        format!(
            "no lock events since {}\n",
            since.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    } else {
        events
            .iter()
            .map(|e| describe(e, args.all) + "\n")
            .collect()
    };
    crate::output::print_report(&text)?;
    Ok(0)
}

/// One line per event.
fn describe(e: &Event, with_key: bool) -> String {
    let mut parts = vec![e.at.format("%Y-%m-%d %H:%M:%SZ").to_string()];
    if with_key {
        parts.push(e.lock_key.clone());
    }
    let kind = match e.kind {
        Kind::Run => "run",
        Kind::Wait => "wait",
        Kind::Takeover => "takeover",
        Kind::ForceUnlock => "force-unlock",
        Kind::OutsideWrite => "outside-write",
        Kind::StateAck => "state-ack",
    };
    parts.push(format!("{kind:<12}"));
    parts.push(e.who.clone());
    if let Some(op) = &e.operation {
        parts.push(format!("({op})"));
    }
    if let Some(f) = e.fence {
        parts.push(format!("fence {f}"));
    }
    if e.waited_ms.is_some_and(|w| w > 0) {
        parts.push(format!("waited {}", duration::format(e.waited())));
    }
    if e.held_ms.is_some() {
        parts.push(format!("held {}", duration::format(e.held())));
    }
    if let Some(code) = e.exit_code {
        parts.push(format!("exit {code}"));
    }
    if let Some(outcome) = &e.outcome {
        parts.push(outcome.clone());
    }
    if let Some(prev) = &e.previous_holder {
        let verb = if e.kind == Kind::Wait {
            "held by"
        } else {
            "from"
        };
        parts.push(format!("{verb} {prev}"));
    }
    if let Some(ms) = e.observed_ms {
        parts.push(format!(
            "silent {}",
            duration::format(std::time::Duration::from_millis(ms))
        ));
    }
    if !e.removed.is_empty() {
        parts.push(format!("removed {}", e.removed.join(", ")));
    }
    if !e.kept.is_empty() {
        parts.push(format!("kept {}", e.kept.join(", ")));
    }
    let state = |m: &std::collections::HashMap<String, String>| {
        let serial = m
            .get("serial")
            .map(|s| format!("serial {s}"))
            .unwrap_or_else(|| "no state".into());
        match m.get("version_id") {
            Some(v) => format!("{serial} (version {v})"),
            None => serial,
        }
    };
    match (&e.state_before, &e.state_after) {
        (Some(b), Some(a)) if b != a => parts.push(format!("state {} → {}", state(b), state(a))),
        (Some(b), _) => parts.push(format!("state {}", state(b))),
        _ => {}
    }
    if let Some(reason) = &e.reason {
        parts.push(format!("reason: {reason:?}"));
    }
    if let Some(url) = &e.ci_url {
        parts.push(url.clone());
    }
    // One line each, whatever the records hold (see `record::shown`).
    crate::lock::record::shown(&parts.join("  "))
}
