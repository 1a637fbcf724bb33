//! Which terraform commands write state (and so run under the lease), and
//! what tflock reads from their arguments.

use std::ffi::OsString;
use std::time::Duration;

use crate::duration;
use crate::error::{Error, Result};

/// What to do with a terraform command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Run under the lease. `operation` names it in the lock record.
    Locked {
        operation: String,
        lock_timeout: Option<Duration>,
        /// terraform's `-chdir=DIR`: where its backend configuration is.
        chdir: Option<String>,
    },
    /// Hand straight to terraform, no lock: read-only commands, help, and
    /// runs where the user turned locking off with `-lock=false`.
    PassThrough { why: &'static str },
}

const LOCKING: &[&str] = &[
    "plan", "apply", "destroy", "import", "refresh", "taint", "untaint",
];
const LOCKING_STATE: &[&str] = &["mv", "rm", "push", "replace-provider"];

/// terraform's global options, before its subcommand: `-chdir`, where the
/// subcommand starts, and whether any other global option was given.
struct GlobalOptions {
    chdir: Option<String>,
    command_at: usize,
    others: bool,
    /// `-chdir DIR`, which terraform refuses (it wants `-chdir=DIR`).
    chdir_without_equals: bool,
}

impl GlobalOptions {
    /// `-chdir`'s directory. `-chdir DIR` is refused in terraform's own
    /// words, before any lock is taken, rather than a lease taken for a
    /// terraform that will not start.
    fn checked_chdir(self) -> Result<Option<String>> {
        if self.chdir_without_equals {
            return Err(Error::usage(
                "Invalid -chdir option: must include an equals sign followed by a \
                 directory path, like -chdir=example",
            ));
        }
        Ok(self.chdir)
    }
}

fn global_options(all: &[String]) -> GlobalOptions {
    let mut g = GlobalOptions {
        chdir: None,
        command_at: 0,
        others: false,
        chdir_without_equals: false,
    };
    let mut i = 0;
    // terraform skips empty arguments when it looks for its subcommand
    // (`tflock -chdir=x "$EXTRA" apply` with EXTRA empty is an apply).
    while let Some(word) = all.get(i).filter(|w| w.is_empty() || w.starts_with('-')) {
        if word.is_empty() {
            i += 1;
            continue;
        }
        let body = word.trim_start_matches('-');
        match body.split_once('=') {
            Some(("chdir", dir)) => g.chdir = Some(dir.to_string()),
            None if body == "chdir" => {
                g.chdir = all.get(i + 1).cloned();
                g.chdir_without_equals = true;
                i += 1;
            }
            _ => g.others = true,
        }
        i += 1;
    }
    g.command_at = i;
    g
}

fn strings(args: &[OsString]) -> Vec<String> {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// terraform's `-chdir` among the global options before its subcommand.
pub fn chdir(args: &[OsString]) -> Result<Option<String>> {
    global_options(&strings(args)).checked_chdir()
}

/// The words from terraform's subcommand on (global options and empty
/// arguments left out).
pub fn command_words(args: &[OsString]) -> Vec<String> {
    let all = strings(args);
    let at = global_options(&all).command_at;
    all[at..]
        .iter()
        .filter(|w| !w.is_empty())
        .cloned()
        .collect()
}

pub fn classify(args: &[OsString]) -> Result<Plan> {
    let all = strings(args);
    let options = global_options(&all);
    let (i, others) = (options.command_at, options.others);
    let chdir = options.checked_chdir()?;
    if others {
        return Ok(Plan::PassThrough {
            why: "terraform's own option",
        });
    }
    let words: Vec<String> = all[i..].iter().filter(|w| !w.is_empty()).cloned().collect();
    let words = &words[..];
    let Some(command) = words.first() else {
        return Ok(Plan::PassThrough { why: "no command" });
    };
    let operation = if LOCKING.contains(&command.as_str()) {
        command.clone()
    } else if command == "state" {
        // The subcommand is the first word after "state" that is not a flag.
        match words[1..].iter().find(|w| !w.starts_with('-')) {
            Some(sub) if LOCKING_STATE.contains(&sub.as_str()) => format!("state {sub}"),
            _ => {
                return Ok(Plan::PassThrough {
                    why: "read-only state command",
                });
            }
        }
    } else {
        return Ok(Plan::PassThrough {
            why: "does not write state",
        });
    };
    let flags = Flags::scan(&words[1..])?;
    if flags.help {
        return Ok(Plan::PassThrough { why: "help" });
    }
    if flags.lock_disabled {
        return Ok(Plan::PassThrough { why: "-lock=false" });
    }
    Ok(Plan::Locked {
        operation,
        lock_timeout: flags.lock_timeout,
        chdir,
    })
}

#[derive(Default)]
struct Flags {
    help: bool,
    lock_disabled: bool,
    lock_timeout: Option<Duration>,
}

impl Flags {
    /// Reads terraform's flags the way Go's flag package does: `-name`,
    /// `--name`, `-name=value`, `-name value`.
    fn scan(words: &[String]) -> Result<Flags> {
        let mut flags = Flags::default();
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            i += 1;
            if !w.starts_with('-') || w == "-" {
                continue;
            }
            let body = w.trim_start_matches('-');
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            match name {
                "h" | "help" => flags.help = true,
                "lock" => {
                    flags.lock_disabled = matches!(
                        value.as_deref(),
                        Some("false" | "0" | "f" | "F" | "FALSE" | "False")
                    )
                }
                "lock-timeout" => {
                    let value = match value {
                        Some(v) => v,
                        None if i < words.len() => {
                            i += 1;
                            words[i - 1].clone()
                        }
                        None => {
                            return Err(Error::config("terraform's -lock-timeout needs a value"));
                        }
                    };
                    let d = duration::parse(&value)
                        .map_err(|e| Error::config(format!("terraform's -lock-timeout: {e}")))?;
                    flags.lock_timeout = Some(d);
                }
                _ => {}
            }
        }
        Ok(flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chdir_without_equals_is_refused_as_terraform_refuses_it() {
        let args: Vec<OsString> = ["-chdir", "infra", "apply"].map(OsString::from).into();
        let refused = classify(&args).expect_err("refused");
        assert_eq!(refused.exit_code(), 64);
        assert!(
            refused.to_string().contains("like -chdir=example"),
            "{refused}"
        );
        assert!(chdir(&args).is_err());
        let fine: Vec<OsString> = ["--chdir=infra", "apply"].map(OsString::from).into();
        assert_eq!(chdir(&fine).unwrap().as_deref(), Some("infra"));
    }

    #[test]
    fn empty_arguments_are_skipped_as_terraform_skips_them() {
        assert_eq!(
            plan(&["-chdir=infra", "", "apply"]),
            Plan::Locked {
                operation: "apply".into(),
                lock_timeout: None,
                chdir: Some("infra".into())
            }
        );
        assert!(matches!(plan(&["", "apply", ""]), Plan::Locked { .. }));
        let args: Vec<OsString> = ["-chdir=x", "", "state", "ack"].map(OsString::from).into();
        assert_eq!(command_words(&args), ["state", "ack"]);
    }

    fn plan(args: &[&str]) -> Plan {
        classify(&args.iter().map(OsString::from).collect::<Vec<_>>()).unwrap()
    }

    fn locked(op: &str) -> Plan {
        Plan::Locked {
            operation: op.into(),
            lock_timeout: None,
            chdir: None,
        }
    }

    #[test]
    fn state_writing_commands_are_locked() {
        for cmd in LOCKING {
            assert_eq!(plan(&[cmd]), locked(cmd));
        }
        assert_eq!(plan(&["state", "mv", "a", "b"]), locked("state mv"));
        assert_eq!(
            plan(&["state", "-lock-timeout=1s", "rm", "a"]).clone(),
            Plan::Locked {
                operation: "state rm".into(),
                lock_timeout: Some(Duration::from_secs(1)),
                chdir: None
            }
        );
        assert_eq!(
            plan(&["state", "replace-provider", "a", "b"]),
            locked("state replace-provider")
        );
    }

    #[test]
    fn everything_else_passes_through() {
        for args in [
            &["init"][..],
            &["validate"],
            &["output", "-json"],
            &["show"],
            &["fmt"],
            &["version"],
            &["workspace", "select", "x"],
            &["providers"],
            &["graph"],
            &["state", "list"],
            &["state", "pull"],
            &["state"],
            &["console"],
            &[],
        ] {
            assert!(matches!(plan(args), Plan::PassThrough { .. }), "{args:?}");
        }
        assert_eq!(plan(&["apply", "-help"]), Plan::PassThrough { why: "help" });
        assert_eq!(
            plan(&["plan", "-lock=false"]),
            Plan::PassThrough { why: "-lock=false" }
        );
        assert_eq!(plan(&["plan", "-lock=true"]), locked("plan"));
    }

    #[test]
    fn terraform_globals_before_the_command() {
        assert_eq!(
            plan(&["-chdir=infra", "apply", "-auto-approve"]),
            Plan::Locked {
                operation: "apply".into(),
                lock_timeout: None,
                chdir: Some("infra".into())
            }
        );
        assert_eq!(
            plan(&["--chdir=infra", "plan"]),
            Plan::Locked {
                operation: "plan".into(),
                lock_timeout: None,
                chdir: Some("infra".into())
            }
        );
        assert!(matches!(plan(&["-version"]), Plan::PassThrough { .. }));
        assert!(matches!(
            plan(&["-chdir=x", "-help"]),
            Plan::PassThrough { .. }
        ));
        assert!(matches!(
            plan(&["-chdir=x", "output"]),
            Plan::PassThrough { .. }
        ));
    }

    #[test]
    fn lock_timeout_is_read_in_every_spelling() {
        for args in [
            &["apply", "-lock-timeout=5m"][..],
            &["apply", "--lock-timeout=5m"],
            &["apply", "-lock-timeout", "5m"],
        ] {
            assert_eq!(
                plan(args),
                Plan::Locked {
                    operation: "apply".into(),
                    lock_timeout: Some(Duration::from_secs(300)),
                    chdir: None
                }
            );
        }
        let err = classify(&[
            OsString::from("apply"),
            OsString::from("-lock-timeout=soon"),
        ])
        .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::CONFIG);
        assert!(classify(&[OsString::from("apply"), OsString::from("-lock-timeout")]).is_err());
    }
}
