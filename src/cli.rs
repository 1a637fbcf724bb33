//! The command line, as clap derive types only. Resolution of these values
//! (precedence over environment and backend configuration) is in `settings`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Terraform commands that write state (plan, apply, destroy, import, refresh, taint,
untaint, state mv|rm|push|replace-provider) run under tflock's lease; every other
terraform command (init, validate, output, show, fmt, version, workspace, ...) is
passed straight to terraform with no lock, so `alias terraform=tflock` is safe.

Examples:
  tflock apply -auto-approve
  tflock --lock-timeout 20m apply -auto-approve     # CI: wait for the lock
  tflock run -- terragrunt apply                    # any command under the lock
  tflock status --output json
  tflock state ack | state versions                 # the state guard's commands

Settings: flags, then TFLOCK_* variables, then .tflock.toml (here or in a parent;
TFLOCK_CONFIG=PATH names one, TFLOCK_CONFIG=off uses none), then the terraform
backend. `tflock config` shows what applies and why. RUST_LOG picks log records.

Exit codes: the child's own; 128+N when it died of signal N; 64 usage; 69 lock
service unreachable; 70 internal error; 75 lock held; 76 force-unlock refused;
77 lease lost; 78 configuration; 124 ran past --max-duration; 126/127 command
not executable/not found; 130 interrupted while waiting (128+N for signal N).";

#[derive(Debug, Parser)]
#[command(
    name = "tflock",
    version = crate::VERSION,
    about = "Safe Terraform state locking: a heartbeated lease in DynamoDB around a supervised terraform run",
    after_help = AFTER_HELP,
    subcommand_required = true,
    arg_required_else_help = true,
    allow_external_subcommands = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// DynamoDB table for the lease [default: the backend's dynamodb_table]
    #[arg(long, env = "TFLOCK_TABLE", value_name = "NAME", global = true)]
    pub table: Option<String>,

    /// Name of the lock [default: <bucket>/<state path> from the backend]
    #[arg(long, env = "TFLOCK_LOCK_KEY", value_name = "KEY", global = true)]
    pub lock_key: Option<String>,

    /// How long to wait for a held lock; 0s fails at once [default: 0s, or terraform's -lock-timeout]
    #[arg(
        long,
        env = "TFLOCK_LOCK_TIMEOUT",
        value_name = "DURATION",
        global = true
    )]
    pub lock_timeout: Option<String>,

    /// Lease duration: a holder silent this long may be proved dead [default: 30s]
    #[arg(long, env = "TFLOCK_LEASE", value_name = "DURATION", global = true)]
    pub lease: Option<String>,

    /// Interval between lease renewals, at most lease/3 (the default)
    #[arg(long, env = "TFLOCK_HEARTBEAT", value_name = "DURATION", global = true)]
    pub heartbeat: Option<String>,

    /// Interrupt the command (once, SIGINT) when it runs longer than this; exit 124
    #[arg(
        long,
        env = "TFLOCK_MAX_DURATION",
        value_name = "DURATION",
        global = true
    )]
    pub max_duration: Option<String>,

    /// While waiting, take over a lease proved stale (as force-unlock --verify proves it)
    #[arg(long, env = "TFLOCK_TAKEOVER_STALE", global = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub takeover_stale: bool,

    /// Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`
    #[arg(long, env = "TFLOCK_STRICT", global = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub strict: bool,

    /// Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions
    #[arg(long, env = "TFLOCK_BACKUP", global = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub backup: bool,

    /// How long lock history is kept (a TTL on its items) [default: 90d]
    #[arg(
        long,
        env = "TFLOCK_HISTORY_RETENTION",
        value_name = "DURATION",
        global = true
    )]
    pub history_retention: Option<String>,

    /// The terraform program to run [default: terraform]
    #[arg(long, env = "TFLOCK_TERRAFORM", value_name = "PROGRAM", global = true)]
    pub terraform_bin: Option<OsString>,

    /// Run as if started in DIR
    #[arg(short = 'C', long, value_name = "DIR", global = true)]
    pub chdir: Option<PathBuf>,

    /// AWS region of the lock table [default: the backend's region, else AWS_REGION]
    #[arg(long, value_name = "REGION", global = true)]
    pub region: Option<String>,

    /// Output format for tflock's own messages and reports
    #[arg(
        long,
        value_enum,
        env = "TFLOCK_OUTPUT",
        value_name = "FORMAT",
        global = true
    )]
    pub output: Option<OutputFormat>,

    /// Print only warnings and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail: -v also logs each DynamoDB and S3 call with its
    /// latency, -vv the AWS SDK's own records (RUST_LOG overrides both)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Whether `lock_key` came from the TFLOCK_LOCK_KEY variable (set by the
    /// user, or inherited from a parent tflock: see `lib::main`).
    #[arg(skip)]
    pub lock_key_from_env: bool,

    /// Where each option set by flag, variable or `.tflock.toml` came from.
    #[arg(skip)]
    pub origins: crate::config_file::Origins,

    /// The `.tflock.toml` applied, if any.
    #[arg(skip)]
    pub config_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run any command under the lock: tflock run [--] CMD [ARGS...]
    Run(RunArgs),

    /// Show who holds the lock, since when, and terraform's own lock item
    Status(StatusArgs),

    /// Remove a stuck lock: --verify proves its holder dead first; LOCK_ID is the unguarded path
    #[command(name = "force-unlock")]
    ForceUnlock(ForceUnlockArgs),

    /// Create the lock table (and check the state bucket); safe to run again
    Setup(SetupArgs),

    /// Check the backend, table, credentials, clock and terraform: one line per check
    Doctor(DoctorArgs),

    /// Every acquisition, wait, takeover and force-unlock of the lock
    History(HistoryArgs),

    /// Contention per lock: runs, waits, hold times, lease losses, force-unlocks
    Stats(StatsArgs),

    /// A fire drill on a scratch lock: a holder dies, and is recovered with force-unlock --verify
    Drill(DrillArgs),

    /// The effective settings here and where each came from (flag, variable, .tflock.toml, backend, default)
    Config,

    /// Print a shell completion script (tflock's commands and terraform's)
    Completions(CompletionsArgs),

    /// Print the man page (roff): tflock man > tflock.1
    Man,

    /// A terraform command (passed to terraform; locked when it writes state)
    #[command(external_subcommand)]
    Terraform(Vec<OsString>),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The command and its arguments, passed untouched
    #[arg(
        value_name = "CMD",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Every lease in the table, and terraform locks with no lease beside them
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The state bucket to check [default: the backend's bucket]
    #[arg(long, value_name = "NAME")]
    pub bucket: Option<String>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How far back
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub since: String,

    /// Every lock in the table, not just this directory's
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// How far back
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub since: String,

    /// Every lock in the table, not just this directory's
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct DrillArgs {}

#[derive(Debug, Args)]
#[command(after_help = "\
Install, for example:
  bash:  tflock completions bash > ~/.local/share/bash-completion/completions/tflock
  zsh:   tflock completions zsh > \"${fpath[1]}/_tflock\"
  fish:  tflock completions fish > ~/.config/fish/completions/tflock.fish")]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("how").required(true).args(["verify", "lock_id"]))]
pub struct ForceUnlockArgs {
    /// Prove the holder dead (its lease silent for a full lease, observed from
    /// here) before removing anything
    #[arg(long)]
    pub verify: bool,

    /// Unguarded: the lease's owner token, or terraform's lock ID, exactly
    #[arg(value_name = "LOCK_ID")]
    pub lock_id: Option<String>,

    /// Why, for the audit record
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Leave terraform's own lock item in place even when it is the dead holder's
    #[arg(long, requires = "verify")]
    pub keep_terraform_lock: bool,

    /// Do not ask for confirmation (the unguarded path)
    #[arg(long, short = 'y', conflicts_with = "verify")]
    pub yes: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn terraform_arguments_are_captured_untouched() {
        let cli = Cli::try_parse_from([
            "tflock",
            "--lock-timeout",
            "5m",
            "apply",
            "-auto-approve",
            "-var",
            "x=1",
            "--",
            "-C",
        ])
        .unwrap();
        assert_eq!(cli.global.lock_timeout.as_deref(), Some("5m"));
        let Command::Terraform(args) = cli.command else {
            panic!("expected a terraform command")
        };
        assert_eq!(args, ["apply", "-auto-approve", "-var", "x=1", "--", "-C"]);
    }

    #[test]
    fn run_takes_everything_after_the_command() {
        let cli =
            Cli::try_parse_from(["tflock", "run", "--", "terragrunt", "apply", "--table", "x"])
                .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("expected run")
        };
        assert_eq!(run.command, ["terragrunt", "apply", "--table", "x"]);
        assert_eq!(cli.global.table, None);
    }
}
