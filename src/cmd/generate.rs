//! `tflock completions SHELL` and `tflock man`: generated from the command
//! line's own definition, so they cannot drift from it. The copies checked
//! in under `completions/` and `docs/tflock.1` are compared with what the
//! binary prints by a test (`scripts/generate` rewrites them).

use std::io::Write;

use clap::{Arg, Command, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{Error, Result};

/// terraform's subcommands (terraform 1.11 `-help`), offered after `tflock`
/// as terraform offers them. `force-unlock` is tflock's own.
const TERRAFORM_COMMANDS: &[(&str, &str)] = &[
    ("init", "terraform init (no lock: passed to terraform)"),
    ("validate", "terraform validate (no lock)"),
    ("plan", "terraform plan, under the lock"),
    ("apply", "terraform apply, under the lock"),
    ("destroy", "terraform destroy, under the lock"),
    ("console", "terraform console (no lock)"),
    ("fmt", "terraform fmt (no lock)"),
    ("get", "terraform get (no lock)"),
    ("graph", "terraform graph (no lock)"),
    ("import", "terraform import, under the lock"),
    ("login", "terraform login (no lock)"),
    ("logout", "terraform logout (no lock)"),
    ("metadata", "terraform metadata (no lock)"),
    ("modules", "terraform modules (no lock)"),
    ("output", "terraform output (no lock)"),
    ("providers", "terraform providers (no lock)"),
    ("refresh", "terraform refresh, under the lock"),
    ("show", "terraform show (no lock)"),
    ("taint", "terraform taint, under the lock"),
    ("test", "terraform test (no lock)"),
    ("untaint", "terraform untaint, under the lock"),
    ("version", "terraform version (no lock)"),
];

const TERRAFORM_STATE_COMMANDS: &[(&str, &str)] = &[
    ("list", "terraform state list (no lock)"),
    ("mv", "terraform state mv, under the lock"),
    ("pull", "terraform state pull (no lock)"),
    ("push", "terraform state push, under the lock"),
    (
        "replace-provider",
        "terraform state replace-provider, under the lock",
    ),
    ("rm", "terraform state rm, under the lock"),
    ("show", "terraform state show (no lock)"),
];

const TERRAFORM_WORKSPACE_COMMANDS: &[&str] = &["delete", "list", "new", "select", "show"];

/// terraform's arguments after its subcommand: anything, files for choice.
fn passthrough_args() -> Arg {
    Arg::new("args")
        .num_args(0..)
        .trailing_var_arg(true)
        .allow_hyphen_values(true)
        .value_hint(clap::ValueHint::AnyPath)
}

/// A terraform command: its `-help` is terraform's, not a tflock flag.
fn terraform_command(name: &'static str, about: &'static str) -> Command {
    Command::new(name)
        .about(about)
        .disable_help_flag(true)
        .arg(passthrough_args())
}

/// tflock's command line as the shells should complete it: tflock's own
/// commands, and terraform's beside them (`tflock ap<TAB>`), with `state`
/// holding both terraform's subcommands and tflock's `ack` and `versions`.
pub fn command_for_completions() -> Command {
    // tflock's options are completed before any command and after tflock's
    // own commands; after a terraform command the words are terraform's.
    let mut cmd = Cli::command().mut_args(|a| a.global(false));
    let options: Vec<Arg> = cmd
        .get_arguments()
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
        .cloned()
        .collect();
    let ours: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in ours {
        let options = options.clone();
        cmd = cmd.mut_subcommand(name, |c| c.args(options));
    }
    for (name, about) in TERRAFORM_COMMANDS {
        cmd = cmd.subcommand(terraform_command(name, about));
    }
    let mut state = crate::cmd::state::StateCli::command()
        .name("state")
        .about("terraform state commands, and tflock's state ack and state versions");
    for (name, about) in TERRAFORM_STATE_COMMANDS {
        state = state.subcommand(terraform_command(name, about));
    }
    let mut workspace = Command::new("workspace").about("terraform workspace (no lock)");
    for name in TERRAFORM_WORKSPACE_COMMANDS {
        workspace = workspace.subcommand(terraform_command(name, "terraform workspace"));
    }
    cmd.subcommand(state).subcommand(workspace)
}

pub fn completions(shell: Shell) -> Result<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command_for_completions(), "tflock", &mut out);
    write_stdout(&out)
}

/// The man page. Its version is the package's, without the commit that
/// `--version` adds, so the checked-in page changes only with a release.
/// clap_mangen renders the head and the options; the commands, environment,
/// exit status and files sections are tflock's (clap_mangen would point to
/// a page per subcommand, and it lists no environment).
pub fn man() -> Result<u8> {
    let cmd = Cli::command().version(env!("CARGO_PKG_VERSION"));
    let man = clap_mangen::Man::new(cmd.clone());
    // Built (globals propagated) to tell each command's own options apart.
    let mut cmd = cmd;
    cmd.build();
    let mut out = Vec::new();
    let rendered = (|| {
        man.render_title(&mut out)?;
        man.render_name_section(&mut out)?;
        man.render_synopsis_section(&mut out)?;
        out.extend_from_slice(DESCRIPTION.as_bytes());
        man.render_options_section(&mut out)?;
        Ok::<_, std::io::Error>(())
    })();
    rendered.map_err(|e| Error::Internal(format!("cannot render the man page: {e}")))?;
    out.extend_from_slice(commands_section(&cmd).as_bytes());
    out.extend_from_slice(environment_section(&cmd).as_bytes());
    out.extend_from_slice(TAIL.as_bytes());
    write_stdout(&out)
}

const DESCRIPTION: &str = r#".SH DESCRIPTION
tflock takes a lease lock in DynamoDB, runs terraform as its child while a
heartbeat keeps the lease alive, and releases the lock when terraform exits
or a signal stops it.
.PP
Terraform commands that write state (plan, apply, destroy, import, refresh,
taint, untaint, state mv|rm|push|replace\-provider) run under the lease;
every other terraform command (init, validate, output, show, fmt, version,
workspace, ...) is passed straight to terraform with no lock, so
\fBalias terraform=tflock\fR is safe.
terraform's arguments reach it untouched.
.PP
The lock is found from the directory's backend, as \fBterraform init\fR
recorded it in \fI.terraform/terraform.tfstate\fR: an s3 backend with a
dynamodb_table. Its key is \fI<bucket>/<state path>\fR, terraform's own
LockID; the lease is stored beside terraform's lock item, under
\fItflock:<lock key>\fR.
.PP
Each option can also be set by its environment variable, or in
\fI.tflock.toml\fR; a flag wins over the environment, which wins over the
file, which wins over the backend configuration. An empty variable counts
as unset. \fBtflock config\fR shows what applies and why.
"#;

const TAIL: &str = r#".SH EXIT STATUS
The command's own exit status when it ran (\fBplan \-detailed\-exitcode\fR's
0, 1 and 2 intact); 128+N when it died of signal N; and:
.TP
\fB64\fR
usage error (never 2)
.TP
\fB69\fR
the lock service is unreachable or refused the request
.TP
\fB70\fR
internal error (never 1)
.TP
\fB75\fR
the lock is held and \-\-lock\-timeout passed (or \fBstate ack\fR found it held)
.TP
\fB76\fR
force\-unlock refused: the holder is alive, or its death could not be proved
.TP
\fB77\fR
the lease was lost during the run; the command was interrupted
.TP
\fB78\fR
configuration error; or \-\-strict and the state was written outside the lock
.TP
\fB124\fR
the command ran past \-\-max\-duration
.TP
\fB126\fR, \fB127\fR
the command cannot be executed, or was not found
.TP
\fB130\fR
interrupted (Ctrl\-C) while waiting for the lock; 128+N for another
signal N while waiting
.SH FILES
.TP
\fI.tflock.toml\fR
settings shared by a directory tree (the working directory, terraform's
\-chdir directory, or the nearest parent that has one): the options' long
names, at the top level or under [tflock]
.TP
\fI.terraform/terraform.tfstate\fR
the backend terraform init resolved: bucket, state path, table, region,
endpoints
.SH EXAMPLES
.nf
tflock apply \-auto\-approve
tflock \-\-lock\-timeout 20m apply \-auto\-approve   # CI: wait for the lock
tflock run \-\- terragrunt apply                  # any command under the lock
tflock status \-\-output json
tflock force\-unlock \-\-verify \-\-reason "runner was cancelled"
.fi
.SH SEE ALSO
\fBterraform\fR(1); the runbook for a stuck lock, docs/force\-unlock.md,
and the README, in tflock's source.
"#;

/// Text for roff: hyphens as minus signs, backslashes escaped.
fn roff(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    match text.chars().next() {
        Some('.') | Some('\'') => format!("\\&{text}"),
        _ => text,
    }
}

fn arg_name(arg: &Arg) -> String {
    let mut name = match (arg.get_long(), arg.get_short()) {
        (Some(long), _) => format!("\\fB\\-\\-{}\\fR", roff(long)),
        (None, Some(short)) => format!("\\fB\\-{short}\\fR"),
        (None, None) => String::new(),
    };
    if arg.get_action().takes_values() {
        let value = arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string())
            .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(&format!("\\fI{}\\fR", roff(&value)));
    }
    name
}

/// Each of tflock's commands with its own options.
fn commands_section(cmd: &Command) -> String {
    let mut out = String::from(".SH COMMANDS\n");
    for sub in cmd.get_subcommands() {
        let own: Vec<&Arg> = sub
            .get_arguments()
            .filter(|a| !a.is_global_set() && a.get_id() != "help")
            .collect();
        out.push_str(&format!(".TP\n\\fBtflock {}\\fR", roff(sub.get_name())));
        for a in &own {
            let many = a.get_num_args().is_some_and(|n| n.max_values() > 1);
            let name = format!("{}{}", arg_name(a), if many { "..." } else { "" });
            if a.is_required_set() {
                out.push_str(&format!(" {name}"));
            } else {
                out.push_str(&format!(" [{name}]"));
            }
        }
        out.push('\n');
        out.push_str(&roff(
            &sub.get_about().map(|a| a.to_string()).unwrap_or_default(),
        ));
        out.push('\n');
        for a in own {
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            out.push_str(&format!(
                ".RS\n.TP\n{}\n{}\n.RE\n",
                arg_name(a),
                roff(&help)
            ));
        }
    }
    out.push_str(".TP\n\\fBtflock\\fR \\fIterraform\\-command\\fR [\\fIargs\\fR...]\n");
    out.push_str(
        "a terraform command, run under the lock when it writes state, else passed to terraform\n",
    );
    out.push_str(".TP\n\\fBtflock state ack\\fR [\\fB\\-\\-reason\\fR \\fITEXT\\fR], \\fBtflock state versions\\fR [\\fB\\-\\-limit\\fR \\fIN\\fR]\n");
    out.push_str("accept a state written outside the lock; list the state object's versions with their serials\n");
    out
}

/// The environment variables behind the options.
fn environment_section(cmd: &Command) -> String {
    let mut out = String::from(".SH ENVIRONMENT\n");
    for arg in cmd.get_arguments() {
        if let Some(env) = arg.get_env() {
            out.push_str(&format!(
                ".TP\n\\fB{}\\fR\nas {}\n",
                roff(&env.to_string_lossy()),
                arg_name(arg)
            ));
        }
    }
    out.push_str(".TP\n\\fBTFLOCK_CONFIG\\fR\nthe config file to use instead of looking for \\fI.tflock.toml\\fR; \\fBoff\\fR for none\n");
    out.push_str(".TP\n\\fBRUST_LOG\\fR\nwhich log records to write, as target=level directives (tflock=debug, aws_config=trace); overrides \\-v\n");
    out.push_str(".TP\n\\fBNO_COLOR\\fR, \\fBCLICOLOR_FORCE\\fR\nturn colour off, or on without a terminal\n");
    out.push_str(".TP\n\\fBAWS_PROFILE\\fR, \\fBAWS_REGION\\fR, \\fBAWS_ENDPOINT_URL\\fR, ...\nwhere the table is, when the backend does not say (the backend configuration comes first, as for terraform)\n");
    out
}

fn write_stdout(bytes: &[u8]) -> Result<u8> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        // `tflock man | head`: the reader has seen what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(Error::Internal(format!("cannot write to stdout: {e}"))),
        Ok(()) => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_command_is_well_formed() {
        // clap checks names, conflicts and hints in debug builds.
        command_for_completions().debug_assert();
    }

    #[test]
    fn terraform_commands_do_not_shadow_tflocks() {
        let ours: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        for (name, _) in TERRAFORM_COMMANDS {
            assert!(!ours.iter().any(|o| o == name), "{name} is tflock's");
        }
    }
}
