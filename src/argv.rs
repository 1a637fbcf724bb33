//! Where tflock's own options end and a terraform command line begins, when
//! that command line starts with terraform's global options.
//!
//! `alias terraform=tflock` means users type `tflock -chdir=infra plan` and
//! `tflock -version`. clap reads single-dash words as clusters of short flags
//! (`-chdir` would be `-c -h -d ...`), so such words are recognised here
//! first: everything from the first one on is terraform's, untouched.

use std::ffi::OsString;

use clap::CommandFactory;

use crate::cli::Cli;

/// terraform's global options (`terraform -help` lists them). The
/// one-letter spellings (`-v`, `-h`) are tflock's own (`--verbose`, `--help`).
const TERRAFORM_GLOBALS: &[&str] = &["chdir", "help", "version"];

/// The index in `args` (which starts with argv[0]) where a terraform command
/// line that begins with a terraform global option starts, if it does.
pub fn terraform_globals_start(args: &[OsString]) -> Option<usize> {
    let command = Cli::command();
    let takes_value = |arg: &clap::Arg| arg.get_action().takes_values();
    let mut i = 1;
    while i < args.len() {
        let word = args[i].to_string_lossy();
        if word == "--" || !word.starts_with('-') || word == "-" {
            return None;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            let known = command
                .get_arguments()
                .find(|a| a.get_long() == Some(name))?;
            i += if takes_value(known) && !inline { 2 } else { 1 };
            continue;
        }
        let body = &word[1..];
        let name = body.split_once('=').map_or(body, |(n, _)| n);
        if TERRAFORM_GLOBALS.contains(&name) {
            return Some(i);
        }
        // A cluster of tflock's short flags (`-q`, `-vv`, `-C dir`, `-Cdir`).
        let mut chars = body.chars();
        let mut skip = 1;
        while let Some(c) = chars.next() {
            let known = command.get_arguments().find(|a| a.get_short() == Some(c))?;
            if takes_value(known) {
                if chars.as_str().is_empty() {
                    skip = 2;
                }
                break;
            }
        }
        i += skip;
    }
    None
}

/// tflock's options about the lock: given after the terraform command they
/// reach terraform, which rejects them, after the lock was taken.
/// (`--lock-timeout` is terraform's too, `--help` and `--version` are
/// terraform's, `--verbose` is `terraform test`'s.)
const LOCK_OPTIONS: &[&str] = &[
    "table",
    "lock-key",
    "lease",
    "heartbeat",
    "max-duration",
    "takeover-stale",
    "strict",
    "backup",
    "region",
    "terraform-bin",
    "history-retention",
    "output",
];

/// A tflock option among the words of a terraform command line (`tflock
/// apply -auto-approve --table x`): a usage error naming it, before any lock.
pub fn misplaced_tflock_option(terraform_line: &[OsString]) -> Option<String> {
    terraform_line.iter().find_map(|word| {
        let word = word.to_string_lossy();
        let long = word.strip_prefix("--")?;
        let (name, value) = long
            .split_once('=')
            .map_or((long, None), |(n, v)| (n, Some(v)));
        // terraform's `-backup=PATH` (apply, state rm, …) may be spelled
        // `--backup=PATH`; tflock's --backup takes no value.
        if name == "backup" && value.is_some() {
            return None;
        }
        LOCK_OPTIONS.contains(&name).then(|| {
            format!(
                "`--{name}` is tflock's option, and terraform would reject it: put it before the \
                 terraform command (`tflock --{name} … apply …`)"
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tflocks_lock_options_after_the_terraform_command_are_named() {
        let line = |words: &[&str]| -> Vec<OsString> { words.iter().map(OsString::from).collect() };
        let named = |words: &[&str]| misplaced_tflock_option(&line(words));
        assert!(named(&["apply", "--table", "t"]).is_some_and(|m| m.contains("`--table`")));
        assert!(named(&["plan", "--lease=1m"]).is_some_and(|m| m.contains("`--lease`")));
        // terraform's own, or spelled as terraform spells its flags.
        assert_eq!(named(&["apply", "--lock-timeout=5m"]), None);
        assert_eq!(named(&["test", "--verbose"]), None);
        assert_eq!(named(&["apply", "--help"]), None);
        assert_eq!(named(&["apply", "-table=x"]), None);
        assert_eq!(named(&["apply", "-var", "x=--table"]), None);
        assert_eq!(named(&["state", "rm", "--backup=/tmp/s", "aws_x.y"]), None);
        assert!(named(&["apply", "--backup"]).is_some());
    }

    fn start(args: &[&str]) -> Option<usize> {
        let args: Vec<OsString> = std::iter::once("tflock")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        terraform_globals_start(&args)
    }

    #[test]
    fn finds_terraform_globals_after_tflock_options() {
        assert_eq!(start(&["-chdir=infra", "plan"]), Some(1));
        assert_eq!(start(&["-version"]), Some(1));
        assert_eq!(start(&["-help"]), Some(1));
        assert_eq!(
            start(&["--lock-timeout", "5m", "-chdir=x", "apply"]),
            Some(3)
        );
        assert_eq!(
            start(&["--lock-timeout=5m", "-q", "-chdir", "x", "apply"]),
            Some(3)
        );
        assert_eq!(start(&["-C", "dir", "-vv", "-chdir=x", "plan"]), Some(4));
        assert_eq!(start(&["-Cdir", "-chdir=x", "plan"]), Some(2));
    }

    #[test]
    fn leaves_everything_else_to_clap() {
        assert_eq!(
            start(&["plan", "-chdir=x"]),
            None,
            "after the subcommand it is an argument"
        );
        assert_eq!(start(&["-v", "apply"]), None);
        assert_eq!(start(&["-h"]), None);
        assert_eq!(start(&["--version"]), None);
        assert_eq!(
            start(&["--no-such-flag", "-chdir=x"]),
            None,
            "clap reports the unknown flag"
        );
        assert_eq!(start(&["run", "--", "-chdir=x"]), None);
        assert_eq!(start(&[]), None);
    }
}
