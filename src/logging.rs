//! Diagnostic logging with `tracing`: `-v` shows each DynamoDB and S3 call
//! with its latency (see `sdk_calls`), `-vv` adds the AWS SDK's own debug
//! records, and `RUST_LOG` (a `target=level` list) chooses for itself.
//!
//! Records go to stderr in tflock's own shape: "tflock: …" lines, or with
//! `--output json` one `log` event per line, so stderr stays JSON lines
//! that follow docs/events.schema.json.

use std::fmt::Debug;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::{Map, Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::Layer;

use crate::cli::GlobalArgs;
use crate::output::Reporter;

/// Whether a logger is installed (see [`active`]).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether log records may be written to stderr.
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// The target of tflock's own records (one per SDK call).
pub const CALLS: &str = "tflock::aws";

/// Installs the logger when asked for (`-v`, or `RUST_LOG`). Without either,
/// nothing is installed and every record costs one disabled-callsite check.
pub fn init(global: &GlobalArgs, reporter: &Reporter) {
    let from_env = crate::settings::process_env("RUST_LOG").filter(|v| !v.trim().is_empty());
    let filter = match (&from_env, global.verbose) {
        (Some(spec), _) => match spec.parse::<Targets>() {
            Ok(targets) => targets,
            Err(e) => {
                reporter.warn(&format!(
                    "ignoring RUST_LOG={spec:?} ({e}); expected a list like \"tflock=debug,aws_smithy_runtime=trace\""
                ));
                return;
            }
        },
        (None, 0) => return,
        (None, 1) => Targets::new().with_target(CALLS, tracing::Level::DEBUG),
        (None, _) => Targets::new()
            .with_target("tflock", tracing::Level::TRACE)
            .with_target("aws", tracing::Level::DEBUG),
    };
    let subscriber = filter.with_subscriber(Records {
        json: reporter.json(),
        spans: AtomicU64::new(0),
    });
    // Only fails when a subscriber is already installed: keep that one.
    if tracing::subscriber::set_global_default(subscriber).is_ok() {
        ACTIVE.store(true, Ordering::Relaxed);
    }
}

/// Writes each enabled record to stderr. A subscriber of its own rather
/// than tracing-subscriber's registry: tflock has no use for span data,
/// which the registry exists to store (with two more crates).
struct Records {
    json: bool,
    /// Span ids to hand out (spans are otherwise ignored).
    spans: AtomicU64,
}

impl Subscriber for Records {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        // The `Targets` layer in front decides.
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(self.spans.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = meta.level().as_str().to_ascii_lowercase();
        if self.json {
            let mut line = json!({
                "event": "log",
                "level": level,
                "target": meta.target(),
                "message": fields.message,
            });
            if !fields.rest.is_empty() {
                line["fields"] = Value::Object(fields.rest);
            }
            crate::output::write_json_line(line);
            return;
        }
        // tflock's own records say everything in their message; the SDK's
        // carry their details in fields.
        let text = if meta.target().starts_with("tflock") {
            fields.message
        } else {
            let mut text = format!("{level} {}: {}", meta.target(), fields.message);
            for (name, value) in &fields.rest {
                match value {
                    Value::String(s) => text.push_str(&format!(" {name}={s}")),
                    other => text.push_str(&format!(" {name}={other}")),
                }
            }
            text
        };
        let _ = writeln!(std::io::stderr().lock(), "tflock: {text}");
    }
}

/// A record's fields: the message, and the rest as JSON values.
#[derive(Default)]
struct Fields {
    message: String,
    rest: Map<String, Value>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
        } else {
            self.rest.insert(field.name().to_string(), value);
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
}
