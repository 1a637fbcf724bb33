//! Commands that need no lock: tflock steps aside entirely by exec'ing the
//! program, so signals, exit codes and the terminal are terraform's own.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;

use crate::error::{Error, Result};
use crate::supervise::child;

/// The pid that exec'd its program, a digest of the command line it passed,
/// and how many passthrough tflocks ran above it: exec keeps the pid, so a
/// tflock that finds its own pid here was started in that program's place
/// (`terraform` a symlink to tflock, or a wrapper that execs it) and would
/// exec it again, forever; one that finds its parent's with the same command
/// line was started by that program with its own arguments (a wrapper that
/// runs tflock without exec), and would start another. A provisioner that
/// runs tflock with other arguments is not a loop; a wrapper that changes
/// the arguments each time, or starts tflock through another program
/// (`timeout 600 tflock "$@"`), is caught by the depth.
const EXEC_PID: &str = "TFLOCK_EXEC_PID";

/// Passthrough tflocks nested below one another before it counts as a loop
/// (a provisioner's tflock in a terraform run by tflock is 2).
const MAX_DEPTH: u32 = 8;

pub fn exec(program: &OsString, args: &[OsString]) -> Result<u8> {
    let pid = std::process::id().to_string();
    let parent = std::os::unix::process::parent_id().to_string();
    let line = digest(args);
    let marked = std::env::var(EXEC_PID).unwrap_or_default();
    let mut fields = marked.split(' ');
    let (by, marked_line) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
    let depth = fields
        .next()
        .and_then(|d| d.parse::<u32>().ok())
        .unwrap_or(0)
        + u32::from(!marked.is_empty());
    if by == pid || (by == parent && marked_line == line) || depth >= MAX_DEPTH {
        return Err(Error::config(format!(
            "`{}` runs tflock itself: point --terraform-bin (or TFLOCK_TERRAFORM, or terraform-bin in .tflock.toml) at the real terraform",
            program.to_string_lossy()
        )));
    }
    let path = child::resolve(program, std::env::var_os("PATH").as_deref())?;
    let err = std::process::Command::new(&path)
        .arg0(program)
        .args(args)
        .env(EXEC_PID, format!("{pid} {line} {depth}"))
        .exec();
    Err(child::start_failure(program, &path, &err))
}

/// A stable digest of a command line (FNV-1a over its words).
fn digest(args: &[OsString]) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for word in args {
        for byte in word.as_bytes().iter().chain([&0u8]) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}
