//! `.tflock.toml`: settings shared by everyone working in a directory tree
//! (checked in beside the terraform configuration). Found in the working
//! directory or the nearest parent that has one. Precedence: flags >
//! `TFLOCK_*` variables > this file > the terraform backend > defaults.
//!
//! ```toml
//! table = "terraform-locks"
//! lease = "45s"
//! lock-timeout = "20m"
//! strict = true
//! terraform-bin = "tofu"
//! ```
//!
//! The same keys may instead sit under a `[tflock]` table, so a file that
//! holds other tools' settings too can be used.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::error::{Error, Result};

pub const FILE_NAME: &str = ".tflock.toml";

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileSettings {
    pub table: Option<String>,
    pub lock_timeout: Option<String>,
    pub lease: Option<String>,
    pub heartbeat: Option<String>,
    pub max_duration: Option<String>,
    pub history_retention: Option<String>,
    pub terraform_bin: Option<String>,
    pub region: Option<String>,
    pub output: Option<String>,
    pub takeover_stale: Option<bool>,
    pub strict: Option<bool>,
    pub backup: Option<bool>,
}

/// The file as a whole: tflock's keys at the top level, or under
/// `[tflock]` (then other tables are left to whoever owns them).
#[derive(Deserialize)]
struct Document {
    tflock: Option<FileSettings>,
    #[serde(flatten)]
    rest: toml::Table,
}

/// Where a setting's value came from (for `tflock config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env(String),
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag => write!(f, "flag"),
            Origin::Env(name) => write!(f, "environment ({name})"),
            Origin::File(path) => write!(f, "file ({})", path.display()),
        }
    }
}

/// The settings given by flag, variable or file, by option name.
pub type Origins = BTreeMap<String, Origin>;

/// `TFLOCK_CONFIG`: a file to use instead of looking for one, or `off`
/// for none (tflock's own helper processes, a CI job that must not pick up
/// a developer's settings).
pub const ENV: &str = "TFLOCK_CONFIG";

/// The nearest `.tflock.toml` from `dir` upwards.
pub fn find(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// The file that applies in `dir`: `TFLOCK_CONFIG`'s (a relative path is
/// taken from where tflock was started, like any path in a variable, not
/// from -C or -chdir), or the nearest.
pub fn locate(dir: &Path) -> Option<PathBuf> {
    match crate::settings::process_env(ENV).as_deref() {
        Some("off") => None,
        Some(path) => Some(
            std::fs::canonicalize(path)
                .or_else(|_| std::path::absolute(path))
                .unwrap_or_else(|_| path.into()),
        ),
        None => find(dir),
    }
}

pub fn load(path: &Path) -> Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
    parse(&text).map_err(|e| Error::config(format!("{}{e}", path.display())))
}

/// The settings in `text`; an error starts with ":line:column: " when
/// the parser knows where.
fn parse(text: &str) -> std::result::Result<FileSettings, String> {
    let located = |e: toml::de::Error| {
        let message = e.message().replace('`', "");
        match e.span() {
            Some(span) => {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!(":{line}:{column}: {message}")
            }
            None => format!(": {message}"),
        }
    };
    let document: Document = toml::from_str(text).map_err(located)?;
    match document.tflock {
        Some(settings) => {
            // Beside [tflock], top-level keys would be silently ignored.
            if let Some((key, _)) = document.rest.iter().find(|(_, v)| !v.is_table()) {
                return Err(format!(
                    ": {key} is outside the [tflock] table: move it into [tflock]"
                ));
            }
            Ok(settings)
        }
        None => toml::from_str::<FileSettings>(text).map_err(located),
    }
}

/// Fills what neither a flag nor a variable set from the file, and records
/// where each file value came from.
pub fn apply(global: &mut GlobalArgs, file: &FileSettings, path: &Path) -> Result<()> {
    let origin = || Origin::File(path.to_path_buf());
    let origins = &mut global.origins;
    // An empty value (`TFLOCK_TABLE=` from an unset CI variable) is no
    // choice: the file's value applies.
    let mut fill = |name: &'static str, slot: &mut Option<String>, value: &Option<String>| {
        if slot.as_deref().is_none_or(str::is_empty)
            && let Some(v) = value
        {
            *slot = Some(v.clone());
            origins.insert(name.to_string(), origin());
        }
    };
    fill("table", &mut global.table, &file.table);
    fill("lock-timeout", &mut global.lock_timeout, &file.lock_timeout);
    fill("lease", &mut global.lease, &file.lease);
    fill("heartbeat", &mut global.heartbeat, &file.heartbeat);
    fill("max-duration", &mut global.max_duration, &file.max_duration);
    fill(
        "history-retention",
        &mut global.history_retention,
        &file.history_retention,
    );
    fill("region", &mut global.region, &file.region);
    if global.terraform_bin.as_ref().is_none_or(|b| b.is_empty())
        && let Some(bin) = &file.terraform_bin
    {
        global.terraform_bin = Some(bin.into());
        origins.insert("terraform-bin".into(), origin());
    }
    if global.output.is_none()
        && let Some(output) = &file.output
    {
        global.output = Some(match output.as_str() {
            "text" => OutputFormat::Text,
            "json" => OutputFormat::Json,
            other => {
                return Err(Error::config(format!(
                    "{}: output = {other:?}: expected \"text\" or \"json\"",
                    path.display()
                )));
            }
        });
        origins.insert("output".into(), origin());
    }
    // A flag or variable set these (true or false) when they have an origin.
    let mut flag = |name: &'static str, slot: &mut bool, value: Option<bool>| {
        if !origins.contains_key(name)
            && let Some(v) = value
        {
            *slot = v;
            origins.insert(name.to_string(), origin());
        }
    };
    flag(
        "takeover-stale",
        &mut global.takeover_stale,
        file.takeover_stale,
    );
    flag("strict", &mut global.strict, file.strict);
    flag("backup", &mut global.backup, file.backup);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_and_nested_layouts() {
        let flat = parse("table = \"t\"\nlock-timeout = \"5m\"\nstrict = true\n").unwrap();
        assert_eq!(flat.table.as_deref(), Some("t"));
        assert_eq!(flat.lock_timeout.as_deref(), Some("5m"));
        assert_eq!(flat.strict, Some(true));
        let nested = parse("[tflock]\ntable = \"t\"\n").unwrap();
        assert_eq!(nested.table.as_deref(), Some("t"));
        assert_eq!(parse("").unwrap(), FileSettings::default());
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let e = parse("table = \"t\"\ntabel = \"t\"\n").unwrap_err();
        assert!(e.starts_with(":2:1: ") && e.contains("tabel"), "{e}");
        let e = parse("strict = \"yes\"\n").unwrap_err();
        assert!(e.starts_with(":1:10: ") && e.contains("bool"), "{e}");
        assert!(parse("table = \n").is_err());
        // A typo inside [tflock] is named, not "unknown field tflock".
        let e = parse("[tflock]\nlaese = \"1m\"\n").unwrap_err();
        assert!(e.starts_with(":2:1: ") && e.contains("laese"), "{e}");
    }

    #[test]
    fn keys_beside_a_tflock_table_are_refused_other_tables_left_alone() {
        let e = parse("table = \"t\"\n[tflock]\nlease = \"1m\"\n").unwrap_err();
        assert!(e.contains("table is outside the [tflock] table"), "{e}");
        let shared = parse("[tflock]\nlease = \"1m\"\n[other-tool]\nx = 1\n").unwrap();
        assert_eq!(shared.lease.as_deref(), Some("1m"));
    }

    #[test]
    fn an_empty_variable_leaves_the_file_value() {
        let file = parse("table = \"file\"\nterraform-bin = \"tofu\"\n").unwrap();
        let mut g = GlobalArgs {
            table: Some(String::new()),
            terraform_bin: Some("".into()),
            ..Default::default()
        };
        apply(&mut g, &file, Path::new("/x/.tflock.toml")).unwrap();
        assert_eq!(g.table.as_deref(), Some("file"));
        assert_eq!(g.terraform_bin, Some("tofu".into()));
    }

    #[test]
    fn flags_and_variables_win_over_the_file() {
        let file =
            parse("table = \"file\"\nlease = \"45s\"\nstrict = true\nbackup = true\n").unwrap();
        let mut g = GlobalArgs {
            table: Some("flag".into()),
            ..Default::default()
        };
        g.origins.insert("table".into(), Origin::Flag);
        g.origins
            .insert("strict".into(), Origin::Env("TFLOCK_STRICT".into()));
        let path = Path::new("/x/.tflock.toml");
        apply(&mut g, &file, path).unwrap();
        assert_eq!(g.table.as_deref(), Some("flag"));
        assert_eq!(g.lease.as_deref(), Some("45s"));
        assert_eq!(g.origins["lease"], Origin::File(path.into()));
        // TFLOCK_STRICT=false stays false.
        assert!(!g.strict);
        assert!(g.backup);
    }
}
