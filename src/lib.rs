//! tflock: Terraform state locking that is safe for teams. A lease lock in
//! DynamoDB, heartbeated while terraform runs as a supervised child, released
//! on exit or signal, and recoverable only with proof that its holder is dead.
//!
//! The flow of a guarded run: `cli` → `settings` (which lock, which table,
//! lease timing) → `lock::wait` (acquire, waiting if asked) → `supervise`
//! (child, heartbeat, signals) → release → exit code (`error::exit`).

pub mod argv;
pub mod aws;
pub mod backend;
pub mod ci;
pub mod cli;
pub mod cmd;
pub mod config_file;
pub mod duration;
pub mod error;
pub mod history;
pub mod holder;
pub mod lock;
pub mod logging;
pub mod output;
pub mod process;
pub mod redact;
pub mod sdk_calls;
pub mod settings;
pub mod state;
pub mod supervise;
pub mod terraform;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, parser::ValueSource};

/// `tflock --version`: the package version, and the commit when built from
/// a git checkout (see build.rs).
pub const VERSION: &str = env!("TFLOCK_VERSION");

use cli::{Cli, Command};
use error::{Error, exit};
use output::Reporter;

/// A panic is a bug: one line naming it and exit 70 (DESIGN §7's internal
/// error), not the default report, which with `RUST_BACKTRACE=1` (set on
/// many machines) is a stack trace, and not the abort that follows it in a
/// release build (exit 134, read as a signal). A child still running gets
/// its parent-death signal; the lease is left to go stale.
fn report_panics_in_one_line() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        early_error(
            exit::INTERNAL,
            &format!("internal error (a bug in tflock {VERSION}; please report it): {what}{at}"),
        );
        std::process::exit(i32::from(exit::INTERNAL));
    }));
}

/// An error before the command line is parsed (or a panic): one line, or a
/// JSON line when `--output json` (or `TFLOCK_OUTPUT=json`) asks for them,
/// as the `Reporter` writes errors.
fn early_error(code: u8, message: &str) {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let json = args
        .windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json")
        || settings::process_env("TFLOCK_OUTPUT").as_deref() == Some("json");
    if json {
        output::write_json_line(output::error_json(code, message));
    } else {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), "tflock: error: {message}");
    }
}

/// The whole program: parse, run, and map the outcome to an exit code.
/// Never returns an error for `main` to print: with `RUST_BACKTRACE=1`, that
/// would show users a stack trace.
pub fn main() -> ExitCode {
    report_panics_in_one_line();
    // Debug builds only: lets the tests see what a bug looks like to users.
    if cfg!(debug_assertions) && std::env::var_os("TFLOCK_TEST_PANIC").is_some() {
        panic!("TFLOCK_TEST_PANIC is set");
    }
    unset_empty_variables();
    let (cli, lock_key_from_env) = match parse(std::env::args_os()) {
        Ok(parsed) => parsed,
        Err(code) => return ExitCode::from(code),
    };
    let mut cli = cli;
    cli.global.lock_key_from_env = lock_key_from_env;
    // A tflock's child inherits TFLOCK_LOCK_KEY describing the parent's lock.
    // Unless the user set it (then the parent passed the user's own value on),
    // it is not a choice of key for a nested tflock in another directory.
    if lock_key_from_env && settings::process_env(cmd::run::INHERITED_MARKER).is_some() {
        cli.global.lock_key = None;
        cli.global.lock_key_from_env = false;
        cli.global.origins.remove("lock-key");
    }
    if let Err(e) = apply_config_file(&mut cli) {
        let reporter = Reporter::new(&cli.global);
        // `tflock fmt`, `tflock init`: a broken file must not stop what
        // takes no lock (it would with `alias terraform=tflock`).
        if takes_no_lock(&cli.command) {
            reporter.warn(&format!("{e} (ignored: this command takes no lock)"));
        } else {
            reporter.error(&e);
            return ExitCode::from(e.exit_code());
        }
    }
    let reporter = Reporter::new(&cli.global);
    logging::init(&cli.global, &reporter);
    match run(cli, &reporter) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            reporter.error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// An empty `TFLOCK_*` variable (an unset CI variable: `TFLOCK_STRICT:
/// ${{ vars.STRICT }}`) means "not set", for every option alike: clap would
/// take it as a value (and refuse "" as a boolean or an output format), and
/// it would hide the config file's value.
fn unset_empty_variables() {
    for (name, value) in std::env::vars_os() {
        if value.is_empty() && name.to_str().is_some_and(|n| n.starts_with("TFLOCK_")) {
            // SAFETY: the first thing `main` does, before any other thread
            // exists, so nothing can read the environment concurrently.
            unsafe { std::env::remove_var(&name) };
        }
    }
}

/// Parses the command line. Usage errors exit 64, never clap's 2 (which
/// `plan -detailed-exitcode` uses for "changes present"), with one line.
fn parse(args: impl IntoIterator<Item = OsString>) -> Result<(Cli, bool), u8> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // `tflock -chdir=x plan`: clap parses tflock's part, with a stand-in
    // for the terraform command line, which is then put back untouched.
    let terraform_line = argv::terraform_globals_start(&args).map(|i| {
        let line = args.split_off(i);
        args.push(OsString::from("terraform"));
        line
    });
    let long_version = args.iter().skip(1).any(|a| a == "--version");
    let single_dashed = single_dashed_long_option(&args);
    let terraform_bin = terraform_bin_from(&args);
    let command = Cli::command();
    let matches = command.clone().try_get_matches_from(args).and_then(|m| {
        let from_env = m.value_source("lock_key") == Some(ValueSource::EnvVariable);
        Cli::from_arg_matches(&m).map(|mut cli| {
            cli.global.origins = origins(&command, &m);
            (cli, from_env)
        })
    });
    let (mut cli, from_env) = matches.map_err(|e| {
        use clap::error::ErrorKind;
        match e.kind() {
            ErrorKind::DisplayHelp => {
                let _ = e.print();
                exit::OK
            }
            ErrorKind::DisplayVersion => {
                // `--version` also shows terraform's, first: wrappers that
                // run `<terraform_binary> --version` and parse the first
                // line as "Terraform vX.Y.Z" (terragrunt) keep working
                // with tflock in terraform's place, as does `alias
                // terraform=tflock`. `-V` is tflock's version alone.
                if long_version {
                    terraform_version(terraform_bin.clone());
                }
                let _ = e.print();
                exit::OK
            }
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                // An error, so on stderr (clap would print it to stdout).
                eprint!("{}", e.render());
                exit::USAGE
            }
            _ => {
                let rendered = e.render().to_string();
                let first = rendered.lines().next().unwrap_or("invalid command line");
                let first = first.strip_prefix("error: ").unwrap_or(first);
                // A bad value from a TFLOCK_* variable is configuration
                // (78), and the message says which variable.
                if let Some(var) = bad_variable(&command, &e) {
                    early_error(exit::CONFIG, &format!("{first} (from {var})"));
                    return exit::CONFIG;
                }
                let message = match &single_dashed {
                    // `tflock -lock-timeout=20m apply`, as terraform spells it.
                    Some(name) => format!("{first} (tflock's options take two dashes: --{name})"),
                    None => format!("{first} (see `tflock --help`)"),
                };
                early_error(exit::USAGE, &message);
                exit::USAGE
            }
        }
    })?;
    if let Some(line) = terraform_line {
        cli.command = Command::Terraform(line);
    }
    Ok((cli, from_env))
}

/// A word before the command that spells one of tflock's long options
/// with one dash, as terraform spells its own (`-lock-timeout=20m`).
fn single_dashed_long_option(args: &[OsString]) -> Option<String> {
    let command = Cli::command();
    // Up to the command (the first word that is not an option).
    args.iter()
        .skip(1)
        .map_while(|w| w.to_str())
        .take_while(|w| w.starts_with('-'))
        .find_map(|word| {
            let body = word.strip_prefix('-').filter(|b| !b.starts_with('-'))?;
            let name = body.split_once('=').map_or(body, |(n, _)| n);
            (name.len() > 1 && command.get_arguments().any(|a| a.get_long() == Some(name)))
                .then(|| name.to_string())
        })
}

/// The variable a rejected value came from: the rejected option's
/// variable, set to exactly the rejected value.
fn bad_variable(command: &clap::Command, e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        e.get(ContextKind::InvalidArg),
        e.get(ContextKind::InvalidValue),
    ) else {
        return None;
    };
    let long = arg.trim_start_matches('-').split([' ', '=']).next()?;
    let var = command
        .get_arguments()
        .find(|a| a.get_long() == Some(long))?
        .get_env()?
        .to_string_lossy()
        .into_owned();
    (std::env::var_os(&var).is_some_and(|v| v == value.as_str())).then_some(var)
}

/// The terraform program named by `--terraform-bin` or TFLOCK_TERRAFORM,
/// read before clap has parsed (for `--version`); the config file's is
/// looked up later, only when needed.
fn terraform_bin_from(args: &[OsString]) -> Option<OsString> {
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        if word == "--terraform-bin" {
            if let Some(value) = words.next() {
                return Some(value.clone());
            }
        } else if let Some(value) = word
            .to_str()
            .and_then(|w| w.strip_prefix("--terraform-bin="))
        {
            return Some(value.into());
        }
    }
    std::env::var_os("TFLOCK_TERRAFORM").filter(|v| !v.is_empty())
}

/// Set on the terraform that `--version` runs: if that "terraform" is
/// tflock again (a wrapper, a symlink), it shows only its own version
/// instead of asking the next one, forever.
const VERSION_PROBE: &str = "TFLOCK_VERSION_PROBE";

/// terraform's own `-version` output, before tflock's line; nothing when
/// terraform is not installed, is tflock itself, or does not answer within
/// 5 s (tflock's version is still worth showing).
fn terraform_version(program: Option<OsString>) {
    use std::process::{Command, Stdio};
    if std::env::var_os(VERSION_PROBE).is_some() {
        return;
    }
    let program = program
        .or_else(|| {
            let here = std::env::current_dir().ok()?;
            let file = config_file::load(&config_file::locate(&here)?).ok()?;
            file.terraform_bin.map(OsString::from)
        })
        .unwrap_or_else(|| "terraform".into());
    let Ok(path) = supervise::child::resolve(&program, std::env::var_os("PATH").as_deref()) else {
        return;
    };
    let same = |p: &std::path::Path| std::fs::canonicalize(p).ok();
    if std::env::current_exe().ok().and_then(|e| same(&e)) == same(&path) {
        return;
    }
    let Ok(mut child) = Command::new(&path)
        .arg("-version")
        // The version command asks HashiCorp for upgrades unless told not to.
        .env("CHECKPOINT_DISABLE", "1")
        .env(VERSION_PROBE, "1")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return;
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while let Ok(None) = child.try_wait() {
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Which of tflock's options a flag or a variable set.
fn origins(command: &clap::Command, m: &clap::ArgMatches) -> config_file::Origins {
    let mut found = config_file::Origins::new();
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        let origin = match m.value_source(arg.get_id().as_str()) {
            Some(ValueSource::CommandLine) => config_file::Origin::Flag,
            Some(ValueSource::EnvVariable) => config_file::Origin::Env(
                arg.get_env()
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            _ => continue,
        };
        found.insert(long.to_string(), origin);
    }
    found
}

/// Applies the `.tflock.toml` that governs where the command runs: from
/// -C's directory, and terraform's own `-chdir` below it, or here.
fn apply_config_file(cli: &mut Cli) -> Result<(), Error> {
    let mut here = match &cli.global.chdir {
        // Canonical, so that `-C ../x` looks in x's parents, not ours.
        Some(dir) => std::fs::canonicalize(dir)
            .or_else(|_| std::path::absolute(dir))
            .map_err(|e| Error::config(format!("-C {}: {e}", dir.display())))?,
        None => std::env::current_dir()
            .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?,
    };
    // Any terraform command line: `init` and `workspace` run the file's
    // terraform-bin as `apply` does. (A `-chdir` terraform refuses is
    // refused when the command runs.)
    if let Command::Terraform(args) = &cli.command
        && let Ok(Some(dir)) = terraform::chdir(args)
    {
        here = here.join(dir);
    }
    if let Command::Run(run) = &cli.command
        && let Some((program, args)) = run.command.split_first()
        && let Some(name) = std::path::Path::new(program).file_name()
        && runs_terraform(&name.to_string_lossy(), &cli.global)
        && let Ok(Some(dir)) = terraform::chdir(args)
    {
        here = here.join(dir);
    }
    // Canonical again: `-chdir=../shared` from app must search shared's
    // parents, not app's (as text, app/../shared has app among them).
    let here = std::fs::canonicalize(&here).unwrap_or(here);
    if let Some(path) = config_file::locate(&here) {
        let file = config_file::load(&path)?;
        config_file::apply(&mut cli.global, &file, &path)?;
        cli.global.config_file = Some(path);
    }
    Ok(())
}

/// Whether `tflock run`'s program (its file name) is terraform: `terraform`,
/// or the file name of the configured terraform binary.
fn runs_terraform(name: &str, global: &cli::GlobalArgs) -> bool {
    name == "terraform"
        || global
            .terraform_bin
            .as_ref()
            .and_then(|bin| std::path::Path::new(bin).file_name())
            .is_some_and(|bin| bin == name)
}

/// Commands that never take the lock: terraform's read-only ones, and
/// tflock's generators.
fn takes_no_lock(command: &Command) -> bool {
    match command {
        Command::Completions(_) | Command::Man => true,
        Command::Terraform(args) => {
            !cmd::state::is_ours(args)
                && matches!(
                    terraform::classify(args),
                    Ok(terraform::Plan::PassThrough { .. })
                )
        }
        _ => false,
    }
}

fn run(cli: Cli, reporter: &Reporter) -> Result<u8, Error> {
    if let Some(dir) = &cli.global.chdir {
        std::env::set_current_dir(dir)
            .map_err(|e| Error::config(format!("-C {}: {e}", dir.display())))?;
    }
    match cli.command {
        Command::Run(run) => {
            let mut command = run.command.into_iter();
            let program = command
                .next()
                .ok_or_else(|| Error::usage("tflock run needs a command"))?;
            let name = std::path::Path::new(&program)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| program.to_string_lossy().into_owned());
            let args: Vec<OsString> = command.collect();
            // `tflock run -- terraform -chdir=infra apply`: the lock is
            // infra's, as for `tflock -chdir=infra apply`.
            let chdir = runs_terraform(&name, &cli.global)
                .then(|| terraform::chdir(&args))
                .transpose()?
                .flatten();
            cmd::run::run(
                &cli.global,
                reporter,
                cmd::run::Guarded {
                    program,
                    args,
                    operation: format!("run: {name}"),
                    child_lock_timeout: None,
                    chdir,
                },
            )
        }
        Command::Status(args) => cmd::status::run(&cli.global, &args, reporter),
        Command::ForceUnlock(args) => cmd::force_unlock::run(&cli.global, &args, reporter),
        Command::Setup(args) => cmd::setup::run(&cli.global, &args, reporter),
        Command::Doctor(args) => cmd::doctor::run(&cli.global, &args, reporter),
        Command::History(args) => cmd::history::run(&cli.global, &args, reporter),
        Command::Stats(args) => cmd::stats::run(&cli.global, &args, reporter),
        Command::Drill(args) => cmd::drill::run(&cli.global, &args, reporter),
        Command::Config => cmd::config::run(&cli.global, reporter),
        Command::Completions(args) => cmd::generate::completions(args.shell),
        Command::Man => cmd::generate::man(),
        Command::Terraform(args) if cmd::state::is_ours(&args) => {
            cmd::state::run(&cli.global, &args, reporter)
        }
        Command::Terraform(args) if argv::misplaced_tflock_option(&args).is_some() => Err(
            Error::usage(argv::misplaced_tflock_option(&args).unwrap_or_default()),
        ),
        Command::Terraform(args)
            if terraform::command_words(&args).first().map(String::as_str)
                == Some("force-unlock") =>
        {
            // Reached only past a terraform option (`tflock -chdir=x
            // force-unlock ID`); terraform's own would bypass every check.
            Err(Error::usage(
                "terraform's force-unlock removes a lock unchecked and unrecorded: use tflock's, \
                 `tflock -C DIR force-unlock --verify` (or `tflock -C DIR force-unlock LOCK_ID`)",
            ))
        }
        Command::Terraform(args) => {
            let program = cli
                .global
                .terraform_bin
                .clone()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| OsString::from("terraform"));
            match terraform::classify(&args)? {
                terraform::Plan::PassThrough { why } => {
                    reporter.detail(&format!(
                        "no lock needed ({why}): running terraform directly"
                    ));
                    cmd::passthrough::exec(&program, &args)
                }
                terraform::Plan::Locked {
                    operation,
                    lock_timeout,
                    chdir,
                } => cmd::run::run(
                    &cli.global,
                    reporter,
                    cmd::run::Guarded {
                        program,
                        args,
                        operation,
                        child_lock_timeout: lock_timeout,
                        chdir,
                    },
                ),
            }
        }
    }
}
