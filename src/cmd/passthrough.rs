//! Commands that need no lock: tflock steps aside entirely by exec'ing the
//! program, so signals, exit codes and the terminal are terraform's own.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;

use crate::error::{Error, Result};
use crate::supervise::child;

pub fn exec(program: &OsString, args: &[OsString]) -> Result<u8> {
    let path = child::resolve(program, std::env::var_os("PATH").as_deref())?;
    let err = std::process::Command::new(&path)
        .arg0(program)
        .args(args)
        .exec();
    Err(Error::ChildNotExecutable {
        program: program.to_string_lossy().into_owned(),
        reason: err.to_string(),
    })
}
