//! Everything tflock itself prints. stdout belongs to the child (and to
//! reports such as `status`); tflock's own messages go to stderr, as text or,
//! with `--output json`, as one JSON object per line (the schema is
//! docs/events.schema.json).
//!
//! Text on a terminal is coloured (`NO_COLOR` turns it off, `CLICOLOR_FORCE`
//! on without a terminal); on GitHub Actions a wait is a collapsible log
//! group and errors and warnings are annotations.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::duration;
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Quiet,
    Normal,
    Verbose,
}

#[derive(Debug, Clone)]
pub struct Reporter {
    pub format: OutputFormat,
    level: Level,
    stderr_is_terminal: bool,
    color: bool,
    /// GitHub Actions: workflow commands (`::group::`, `::error::`).
    github: bool,
    /// `user@host`: the holder named in this process's own lock events.
    who: String,
}

/// Lock events, reported as they happen.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    Waiting {
        lock_key: &'a str,
        /// `user@host` and fence of the holder; `None` while handing over.
        holder: Option<(&'a str, u64)>,
        /// For humans: the holder, its operation, the line ahead.
        detail: &'a str,
        waited: Duration,
        /// The first report of this wait.
        first: bool,
    },
    Acquired {
        lock_key: &'a str,
        fence: u64,
        waited: Duration,
    },
    HeartbeatFailed {
        lock_key: &'a str,
        error: &'a str,
        fence_in: Duration,
    },
    LeaseLost {
        lock_key: &'a str,
        fence: u64,
        reason: &'a str,
    },
    Released {
        lock_key: &'a str,
        fence: u64,
        held: Duration,
    },
    /// A stale lease taken over by this waiter (`--takeover-stale`).
    TakenOver {
        lock_key: &'a str,
        fence: u64,
        previous_holder: &'a str,
        previous_fence: u64,
    },
    /// `force-unlock` removed a lock (`holder` and `fence`: whose, when known).
    ForceUnlocked {
        lock_key: &'a str,
        holder: Option<&'a str>,
        fence: Option<u64>,
        removed: &'a [String],
        verified: bool,
    },
}

/// Writes a command's report to stdout. A reader that has gone (`tflock
/// history | head -1`) got what it wanted: not an error, and never the
/// "internal error" of exit 70 that fails a CI pipeline.
pub fn print_report(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Internal(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// An error as a JSON event (written by [`write_json_line`]).
pub fn error_json(code: u8, message: &str) -> Value {
    json!({"event": "error", "code": code, "message": message})
}

/// One JSON event on stderr, with its `time` added.
pub fn write_json_line(mut value: Value) {
    if let Value::Object(map) = &mut value {
        map.insert(
            "time".into(),
            Value::String(Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)),
        );
    }
    // A failed write to stderr has nowhere to be reported.
    let _ = writeln!(std::io::stderr().lock(), "{value}");
}

impl Reporter {
    pub fn new(global: &GlobalArgs) -> Reporter {
        let level = if global.quiet {
            Level::Quiet
        } else if global.verbose > 0 {
            Level::Verbose
        } else {
            Level::Normal
        };
        let env = crate::settings::process_env;
        let stderr_is_terminal = std::io::stderr().is_terminal();
        Reporter {
            format: global.output.unwrap_or_default(),
            level,
            stderr_is_terminal,
            color: use_color(&env, stderr_is_terminal),
            github: env("GITHUB_ACTIONS").as_deref() == Some("true"),
            who: format!(
                "{}@{}",
                crate::holder::user_name(&env),
                crate::holder::host_name()
            ),
        }
    }

    pub fn json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    fn line(&self, text: &str) {
        // A failed write to stderr has nowhere to be reported.
        let _ = writeln!(std::io::stderr().lock(), "tflock: {text}");
    }

    /// "tflock: warning: …", the label coloured when colour is on.
    fn labelled(&self, label: &str, color: &str, text: &str) {
        if self.color {
            self.line(&format!("\x1b[{color}m{label}:\x1b[0m {text}"));
        } else {
            self.line(&format!("{label}: {text}"));
        }
    }

    /// A GitHub Actions workflow command (text output only: JSON output
    /// stays JSON lines).
    fn workflow_command(&self, command: &str, message: &str) {
        if self.github && !self.json() {
            let _ = writeln!(
                std::io::stderr().lock(),
                "::{command}::{}",
                escape_workflow_data(message)
            );
        }
    }

    /// Progress worth a line in normal operation.
    pub fn info(&self, text: &str) {
        if self.level >= Level::Normal && !self.json() {
            self.line(text);
        }
    }

    /// Detail for `-v`.
    pub fn detail(&self, text: &str) {
        if self.level >= Level::Verbose && !self.json() {
            self.line(text);
        }
    }

    pub fn warn(&self, text: &str) {
        if self.json() {
            self.json_line(json!({"event": "warning", "message": text}));
        } else {
            self.labelled("warning", WARNING_COLOR, text);
            self.workflow_command("warning title=tflock", text);
        }
    }

    pub fn error(&self, err: &Error) {
        if self.json() {
            self.json_line(error_json(err.exit_code(), &err.to_string()));
        } else {
            self.labelled("error", ERROR_COLOR, &err.to_string());
            self.workflow_command("error title=tflock", &err.to_string());
        }
    }

    fn json_line(&self, value: Value) {
        write_json_line(value);
    }

    pub fn event(&self, event: Event) {
        if self.json() {
            self.json_line(event_json(&event, &self.who));
            return;
        }
        match event {
            Event::Waiting {
                lock_key,
                detail,
                waited,
                first,
                ..
            } => {
                if first {
                    self.info(&format!("lock {lock_key} is held by {detail}; waiting"));
                } else {
                    self.info(&format!(
                        "still waiting for lock {lock_key} after {}: held by {detail}",
                        duration::format(waited)
                    ));
                }
            }
            Event::Acquired { lock_key, fence, waited } => {
                if waited.is_zero() {
                    self.detail(&format!("acquired lock {lock_key} (fence {fence})"));
                } else {
                    self.info(&format!(
                        "acquired lock {lock_key} after waiting {} (fence {fence})",
                        duration::format(waited)
                    ));
                }
            }
            Event::HeartbeatFailed { lock_key, error, fence_in } => self.warn(&format!(
                "could not renew the lease on {lock_key} ({error}); retrying, the run will be interrupted in {} if this goes on",
                duration::format(fence_in)
            )),
            Event::LeaseLost { lock_key, reason, .. } => {
                let text = format!("lost the lease on {lock_key}: {reason}");
                self.labelled("error", ERROR_COLOR, &text);
                self.workflow_command("error title=tflock", &text);
            }
            Event::Released { lock_key, fence, held } => self.detail(&format!(
                "released lock {lock_key} (fence {fence}) after {}",
                duration::format(held)
            )),
            // Said in full by the command itself (warning, report).
            Event::TakenOver { .. } | Event::ForceUnlocked { .. } => {}
        }
    }

    /// What to show while waiting for a held lock.
    pub fn wait_display(&self, lock_key: &str) -> WaitDisplay {
        // Log records (-v, RUST_LOG) would tear through a redrawn spinner
        // line: with them, plain progress lines instead.
        let spinner = (self.stderr_is_terminal
            && !self.json()
            && self.level >= Level::Normal
            && !crate::logging::active())
        .then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} waiting {elapsed}: {wide_msg}")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        })
        // A terminal indicatif will not draw on (TERM=dumb): plain lines.
        .filter(|bar| !bar.is_hidden());
        WaitDisplay {
            reporter: self.clone(),
            lock_key: lock_key.to_string(),
            spinner,
            last_line: None,
            group_open: false,
        }
    }
}

const WARNING_COLOR: &str = "1;33";
const ERROR_COLOR: &str = "1;31";

/// no-color.org: a non-empty `NO_COLOR` turns colour off; bixense.com's
/// `CLICOLOR_FORCE` (not "0") turns it on without a terminal. `NO_COLOR`
/// wins: it is the user's standing preference.
fn use_color(env: crate::settings::EnvLookup, terminal: bool) -> bool {
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    if set("NO_COLOR") {
        return false;
    }
    if set("CLICOLOR_FORCE") && env("CLICOLOR_FORCE").as_deref() != Some("0") {
        return true;
    }
    terminal && env("TERM").as_deref() != Some("dumb")
}

/// A workflow command's message: `%`, CR and LF are escaped.
fn escape_workflow_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// One event as its JSON line (without `time`, which `json_line` adds).
/// `holder` is whoever holds the lock the event is about: this process for
/// its own acquisition and lease, the other for a wait, the removed one for
/// a force-unlock.
fn event_json(event: &Event, who: &str) -> Value {
    let secs = |d: &Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    match event {
        Event::Waiting {
            lock_key,
            holder,
            detail,
            waited,
            ..
        } => json!({
            "event": "waiting", "lock_key": lock_key, "holder": holder.map(|h| h.0),
            "fence": holder.map(|h| h.1), "detail": detail, "waited_seconds": secs(waited)
        }),
        Event::Acquired {
            lock_key,
            fence,
            waited,
        } => json!({
            "event": "acquired", "lock_key": lock_key, "holder": who, "fence": fence,
            "waited_seconds": secs(waited)
        }),
        Event::HeartbeatFailed {
            lock_key,
            error,
            fence_in,
        } => json!({
            "event": "heartbeat_failed", "lock_key": lock_key, "holder": who, "error": error,
            "interrupt_in_seconds": secs(fence_in)
        }),
        Event::LeaseLost {
            lock_key,
            fence,
            reason,
        } => json!({
            "event": "lease_lost", "lock_key": lock_key, "holder": who, "fence": fence,
            "reason": reason
        }),
        Event::Released {
            lock_key,
            fence,
            held,
        } => json!({
            "event": "released", "lock_key": lock_key, "holder": who, "fence": fence,
            "held_seconds": secs(held)
        }),
        Event::TakenOver {
            lock_key,
            fence,
            previous_holder,
            previous_fence,
        } => json!({
            "event": "taken_over", "lock_key": lock_key, "holder": who, "fence": fence,
            "previous_holder": previous_holder, "previous_fence": previous_fence
        }),
        Event::ForceUnlocked {
            lock_key,
            holder,
            fence,
            removed,
            verified,
        } => json!({
            "event": "force_unlocked", "lock_key": lock_key, "holder": holder, "fence": fence,
            "removed": removed, "verified": verified, "by": who
        }),
    }
}

/// While waiting: a spinner naming the holder on a terminal; otherwise one
/// line when waiting starts and one every 30 s, so CI logs stay readable.
pub struct WaitDisplay {
    reporter: Reporter,
    lock_key: String,
    spinner: Option<indicatif::ProgressBar>,
    last_line: Option<Instant>,
    /// A GitHub Actions log group around the wait's lines.
    group_open: bool,
}

const PLAIN_INTERVAL: Duration = Duration::from_secs(30);

impl WaitDisplay {
    /// `holder`: `user@host` and fence of the holder (`None` while it is
    /// handed over); `detail` describes it for humans; `waited` is how long
    /// we have waited.
    pub fn update(&mut self, holder: Option<(&str, u64)>, detail: &str, waited: Duration) {
        if let Some(spinner) = &self.spinner {
            spinner.set_message(format!("lock {} is held by {detail}", self.lock_key));
            return;
        }
        if self.last_line.is_none_or(|t| t.elapsed() >= PLAIN_INTERVAL) {
            let first = self.last_line.is_none();
            if first && self.reporter.github && !self.reporter.json() {
                self.reporter.workflow_command(
                    "group",
                    &format!(
                        "tflock: waiting for lock {} (held by {detail})",
                        self.lock_key
                    ),
                );
                self.group_open = true;
            }
            self.last_line = Some(Instant::now());
            self.reporter.event(Event::Waiting {
                lock_key: &self.lock_key,
                holder,
                detail,
                waited,
                first,
            });
        }
    }

    pub fn finish(self) {
        if let Some(spinner) = self.spinner {
            spinner.finish_and_clear();
        }
        if self.group_open {
            let _ = writeln!(std::io::stderr().lock(), "::endgroup::");
        }
    }
}
