//! Everything tflock itself prints. stdout belongs to the child (and to
//! reports such as `status`); tflock's own messages go to stderr, as text or,
//! with `--output json`, as one JSON object per line.

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
}

/// Lock events, reported as they happen.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    Waiting {
        lock_key: &'a str,
        holder: &'a str,
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
        Reporter {
            format: global.output.unwrap_or_default(),
            level,
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }

    pub fn json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    fn line(&self, text: &str) {
        // A failed write to stderr has nowhere to be reported.
        let _ = writeln!(std::io::stderr().lock(), "tflock: {text}");
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
            self.line(&format!("warning: {text}"));
        }
    }

    pub fn error(&self, err: &Error) {
        if self.json() {
            self.json_line(
                json!({"event": "error", "code": err.exit_code(), "message": err.to_string()}),
            );
        } else {
            self.line(&format!("error: {err}"));
        }
    }

    fn json_line(&self, mut value: Value) {
        if let Value::Object(map) = &mut value {
            map.insert(
                "time".into(),
                Value::String(Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)),
            );
        }
        let _ = writeln!(std::io::stderr().lock(), "{value}");
    }

    pub fn event(&self, event: Event) {
        if self.json() {
            self.json_line(event_json(&event));
            return;
        }
        match event {
            Event::Waiting {
                lock_key,
                holder,
                waited,
                first,
            } => {
                if first {
                    self.info(&format!("lock {lock_key} is held by {holder}; waiting"));
                } else {
                    self.info(&format!(
                        "still waiting for lock {lock_key} after {}: held by {holder}",
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
                self.line(&format!("error: lost the lease on {lock_key}: {reason}"))
            }
            Event::Released { lock_key, fence, held } => self.detail(&format!(
                "released lock {lock_key} (fence {fence}) after {}",
                duration::format(held)
            )),
        }
    }

    /// What to show while waiting for a held lock.
    pub fn wait_display(&self, lock_key: &str) -> WaitDisplay {
        let spinner = (self.stderr_is_terminal && !self.json() && self.level >= Level::Normal)
            .then(|| {
                let bar = indicatif::ProgressBar::with_draw_target(
                    None,
                    indicatif::ProgressDrawTarget::stderr(),
                );
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{spinner} waiting {elapsed}: {wide_msg}",
                ) {
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
        }
    }
}

fn event_json(event: &Event) -> Value {
    let secs = |d: &Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    match event {
        Event::Waiting {
            lock_key,
            holder,
            waited,
            ..
        } => {
            json!({"event": "waiting", "lock_key": lock_key, "holder": holder, "waited_seconds": secs(waited)})
        }
        Event::Acquired {
            lock_key,
            fence,
            waited,
        } => {
            json!({"event": "acquired", "lock_key": lock_key, "fence": fence, "waited_seconds": secs(waited)})
        }
        Event::HeartbeatFailed {
            lock_key,
            error,
            fence_in,
        } => json!({
            "event": "heartbeat_failed", "lock_key": lock_key, "error": error,
            "interrupt_in_seconds": secs(fence_in)
        }),
        Event::LeaseLost {
            lock_key,
            fence,
            reason,
        } => {
            json!({"event": "lease_lost", "lock_key": lock_key, "fence": fence, "reason": reason})
        }
        Event::Released {
            lock_key,
            fence,
            held,
        } => {
            json!({"event": "released", "lock_key": lock_key, "fence": fence, "held_seconds": secs(held)})
        }
    }
}

/// While waiting: a spinner naming the holder on a terminal; otherwise one
/// line when waiting starts and one every 30 s, so CI logs stay readable.
pub struct WaitDisplay {
    reporter: Reporter,
    lock_key: String,
    spinner: Option<indicatif::ProgressBar>,
    last_line: Option<Instant>,
}

const PLAIN_INTERVAL: Duration = Duration::from_secs(30);

impl WaitDisplay {
    /// `holder` describes who holds it; `waited` is how long we have waited.
    pub fn update(&mut self, holder: &str, waited: Duration) {
        if let Some(spinner) = &self.spinner {
            spinner.set_message(format!("lock {} is held by {holder}", self.lock_key));
            return;
        }
        if self.last_line.is_none_or(|t| t.elapsed() >= PLAIN_INTERVAL) {
            let first = self.last_line.is_none();
            self.last_line = Some(Instant::now());
            self.reporter.event(Event::Waiting {
                lock_key: &self.lock_key,
                holder,
                waited,
                first,
            });
        }
    }

    pub fn finish(self) {
        if let Some(spinner) = self.spinner {
            spinner.finish_and_clear();
        }
    }
}
