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

#[cfg(test)]
mod tests {
    use super::*;

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
