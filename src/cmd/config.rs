//! `tflock config`: the effective settings here and where each came from
//! (flag, variable, `.tflock.toml`, the terraform backend, or the default).

use serde_json::{Value, json};

use crate::cli::GlobalArgs;
use crate::config_file;
use crate::duration;
use crate::error::{Error, Result};
use crate::output::Reporter;
use crate::settings::{Target, Timing, process_env};

struct Row {
    name: &'static str,
    value: Option<String>,
    from: String,
}

pub fn run(global: &GlobalArgs, reporter: &Reporter) -> Result<u8> {
    let workdir = std::env::current_dir()
        .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?;
    let given = |name: &str| global.origins.get(name).map(|o| o.to_string());
    let timing = Timing::resolve(global, None)?;
    // Table and lock key need a backend (or flags): say why when missing.
    let target = Target::resolve(global, &workdir, &process_env);
    let backend = "backend (.terraform/terraform.tfstate)".to_string();
    let (table, key, region) = match &target {
        Ok(t) => (
            Row {
                name: "table",
                value: Some(t.table.clone()),
                from: given("table").unwrap_or_else(|| backend.clone()),
            },
            Row {
                name: "lock-key",
                value: Some(t.lock_key.clone()),
                from: given("lock-key").unwrap_or_else(|| backend.clone()),
            },
            Row {
                name: "region",
                value: t.aws.region.clone().or_else(|| process_env("AWS_REGION")),
                // The file's region yields to the backend's: name the
                // source of the value in use.
                from: match &t.aws.region {
                    Some(r) if global.region.as_ref() == Some(r) => {
                        given("region").unwrap_or_else(|| backend.clone())
                    }
                    Some(_) => backend.clone(),
                    None => "AWS configuration (AWS_REGION, profile)".to_string(),
                },
            },
        ),
        Err(e) => {
            let missing = |name| Row {
                name,
                value: None,
                from: e.to_string(),
            };
            (missing("table"), missing("lock-key"), missing("region"))
        }
    };
    let timed = |name: &'static str, value: String, default: &str| Row {
        name,
        value: Some(value),
        from: given(name).unwrap_or_else(|| default.to_string()),
    };
    let rows = vec![
        table,
        key,
        region,
        timed("lease", duration::format(timing.lease), "default"),
        timed(
            "heartbeat",
            duration::format(timing.heartbeat),
            "default (lease/3)",
        ),
        timed(
            "lock-timeout",
            duration::format(timing.lock_timeout),
            "default (or terraform's -lock-timeout)",
        ),
        Row {
            name: "max-duration",
            value: timing.max_duration.map(duration::format),
            from: given("max-duration").unwrap_or_else(|| "default (none)".into()),
        },
        timed(
            "history-retention",
            duration::format(timing.history_retention),
            "default",
        ),
        timed(
            "takeover-stale",
            timing.takeover_stale.to_string(),
            "default",
        ),
        timed("strict", global.strict.to_string(), "default"),
        timed("backup", global.backup.to_string(), "default"),
        timed(
            "terraform-bin",
            global
                .terraform_bin
                .as_ref()
                .map(|b| b.to_string_lossy().into_owned())
                .unwrap_or_else(|| "terraform".into()),
            "default",
        ),
        timed(
            "output",
            if reporter.json() { "json" } else { "text" }.into(),
            "default",
        ),
    ];
    let file = global.config_file.as_ref();
    let text = if reporter.json() {
        let mut settings = serde_json::Map::new();
        for r in &rows {
            settings.insert(r.name.into(), json!({"value": r.value, "from": r.from}));
        }
        let v = json!({
            "config_file": file.as_ref().map(|p| p.display().to_string()),
            "settings": Value::Object(settings),
        });
        format!("{v:#}\n")
    } else {
        let mut text = format!(
            "config file        {}\n",
            file.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| {
                    match crate::settings::process_env(config_file::ENV).as_deref() {
                        Some("off") => format!("none ({}=off)", config_file::ENV),
                        _ => format!("none ({} here or above)", config_file::FILE_NAME),
                    }
                })
        );
        for r in &rows {
            text.push_str(&format!(
                "{:<18} {:<40} {}\n",
                r.name,
                r.value.as_deref().unwrap_or("-"),
                r.from
            ));
        }
        text
    };
    crate::output::print_report(&text)?;
    Ok(0)
}
