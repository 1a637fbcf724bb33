//! Commands that need no lock: tflock steps aside entirely by exec'ing the
//! program, so signals, exit codes and the terminal are terraform's own.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;

use crate::error::{Error, Result};
use crate::supervise::child;

/// The pid that exec'd its program: exec keeps the pid, so a tflock that
/// finds its own pid here was started in that program's place (`terraform`
/// a symlink to tflock, or a wrapper that execs it) and would exec it
/// again, forever; one that finds its parent's was started by that program
/// (a wrapper that runs tflock without exec), and would start another.
const EXEC_PID: &str = "TFLOCK_EXEC_PID";

pub fn exec(program: &OsString, args: &[OsString]) -> Result<u8> {
    let pid = std::process::id().to_string();
    let parent = std::os::unix::process::parent_id().to_string();
    if std::env::var_os(EXEC_PID).is_some_and(|p| p == pid.as_str() || p == parent.as_str()) {
        return Err(Error::config(format!(
            "`{}` runs tflock itself: point --terraform-bin (or TFLOCK_TERRAFORM, or terraform-bin in .tflock.toml) at the real terraform",
            program.to_string_lossy()
        )));
    }
    let path = child::resolve(program, std::env::var_os("PATH").as_deref())?;
    let err = std::process::Command::new(&path)
        .arg0(program)
        .args(args)
        .env(EXEC_PID, pid)
        .exec();
    Err(child::start_failure(program, &err))
}
