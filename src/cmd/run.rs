//! A command under the lease: resolve, acquire (waiting if asked), supervise,
//! release. The path of every guarded terraform command and of `tflock run`.

use std::ffi::OsString;
use std::io::IsTerminal;

use chrono::Utc;

use super::runtime;
use crate::aws;
use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::holder::Holder;
use crate::lock::{LeaseTable, wait};
use crate::output::Reporter;
use crate::settings::{Target, Timing, process_env};
use crate::supervise::{self, child, heartbeat::NativeLock, signals::Signals};

/// Set in the child's environment when TFLOCK_LOCK_KEY there is tflock's
/// report of the lock rather than a value the user exported.
pub const INHERITED_MARKER: &str = "TFLOCK_LOCK_KEY_INHERITED";

pub struct Guarded {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// "apply", "state mv", "run: terragrunt".
    pub operation: String,
    /// terraform's `-lock-timeout` among the child's arguments.
    pub child_lock_timeout: Option<std::time::Duration>,
}

pub fn run(global: &GlobalArgs, reporter: &Reporter, guarded: Guarded) -> Result<u8> {
    let timing = Timing::resolve(global, guarded.child_lock_timeout)?;
    // Before anything touches the table: a missing program costs no lock.
    let path = child::resolve(&guarded.program, std::env::var_os("PATH").as_deref())?;
    let workdir = std::env::current_dir()
        .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?;
    let target = Target::resolve(global, &workdir, &process_env)?;

    // Started by a tflock that already holds this very lock (terragrunt with
    // terraform_binary = "tflock" under `tflock run -- terragrunt`): taking it
    // again would wait on ourselves forever. The outer lease covers us.
    if process_env("TFLOCK_TOKEN").is_some()
        && process_env("TFLOCK_LOCK_KEY").as_deref() == Some(target.lock_key.as_str())
    {
        reporter.detail(&format!(
            "already running under tflock's lease on {}; not taking it again",
            target.lock_key
        ));
        return super::passthrough::exec(&guarded.program, &guarded.args);
    }

    let interactive = std::io::stdin().is_terminal();
    let holder = Holder::new(
        guarded.operation,
        &guarded.program.to_string_lossy(),
        &guarded.args,
        &process_env,
    );
    runtime()?.block_on(async {
        let mut signals = Signals::install()
            .map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))?;
        let dynamo = aws::connect(&target.aws).await?;
        let table = LeaseTable::new(dynamo, &target.table, &target.lock_key);
        let acquired = wait::acquire(
            &table,
            &holder,
            timing.lease,
            timing.lock_timeout,
            &mut signals,
            reporter,
        )
        .await?;
        let native = target.terraform_lock.map(|(table, lock_id)| NativeLock {
            table,
            lock_id,
            who: holder.who(),
            acquired_at: Utc::now(),
        });
        let lease = acquired.lease;
        // A signal that arrived just as the lock was granted (Ctrl-C typed a
        // moment too late to end the wait) means: do not start after all.
        if let Some(sig) = signals.pending() {
            let _ = table.release(&lease.token).await;
            let sig = sig.signal();
            return Err(Error::Interrupted {
                signal: sig as i32,
                name: sig.as_str(),
            });
        }
        let env = vec![
            ("TFLOCK_LOCK_KEY", Some(target.lock_key.clone())),
            ("TFLOCK_FENCE", Some(lease.fence.to_string())),
            ("TFLOCK_OWNER", Some(holder.who())),
            ("TFLOCK_TOKEN", Some(lease.token.clone())),
            (
                INHERITED_MARKER,
                (!global.lock_key_from_env).then(|| "1".to_string()),
            ),
        ];
        let spec = child::Spec {
            path,
            program: guarded.program,
            args: guarded.args,
            env,
            own_process_group: !interactive,
        };
        supervise::run(
            supervise::Run {
                table: &table,
                lease,
                heartbeat: timing.heartbeat,
                acquired_started: acquired.started,
                native,
                child: spec,
                interactive,
                reporter,
            },
            &mut signals,
        )
        .await
    })
}
