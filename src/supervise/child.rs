//! Starting the child: found before the lock is taken (so "command not found"
//! costs nothing and leaves nothing), spawned directly (argv, never a shell)
//! with inherited stdio, and tied to tflock's life by the parent-death signal.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::unistd::{AccessFlags, Pid, access, getpid, getppid};

use crate::error::Error;

/// Finds `program` as a shell would: a name with a slash is a path, anything
/// else is looked up in `PATH`. Errors are the shell's: 127 not found, 126
/// found but not executable.
pub fn resolve(program: &OsStr, path_var: Option<&OsStr>) -> Result<PathBuf, Error> {
    let name = program.to_string_lossy().into_owned();
    if program.is_empty() {
        return Err(Error::ChildNotFound {
            program: "''".into(),
        });
    }
    if program.as_bytes().contains(&b'/') {
        let path = PathBuf::from(program);
        return check_executable(&path, &name).map(|()| path);
    }
    let mut found_unexecutable = None;
    for dir in std::env::split_paths(path_var.unwrap_or_default()) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let candidate = dir.join(program);
        if !candidate.exists() {
            continue;
        }
        match check_executable(&candidate, &name) {
            Ok(()) => return Ok(candidate),
            Err(e) => found_unexecutable = found_unexecutable.or(Some(e)),
        }
    }
    Err(found_unexecutable.unwrap_or(Error::ChildNotFound { program: name }))
}

/// Why `program`, found at `path` and executable by [`resolve`], could not
/// be run. A "not found" while the file is still there is not the
/// program's: it is its `#!` interpreter or its ELF loader (as a shell
/// says, "bad interpreter": 126, not 127).
pub fn start_failure(program: &OsStr, path: &Path, err: &std::io::Error) -> Error {
    let reason = match err.kind() {
        // Gone since it was found (a version manager switching it, say).
        std::io::ErrorKind::NotFound if !path.exists() => {
            return Error::ChildNotFound {
                program: program.to_string_lossy().into_owned(),
            };
        }
        std::io::ErrorKind::NotFound => {
            "its interpreter (the #! line) or its loader was not found".to_string()
        }
        _ => err.to_string(),
    };
    Error::ChildNotExecutable {
        program: program.to_string_lossy().into_owned(),
        reason,
    }
}

fn check_executable(path: &Path, name: &str) -> Result<(), Error> {
    let meta = std::fs::metadata(path).map_err(|_| Error::ChildNotFound {
        program: name.to_string(),
    })?;
    if meta.is_dir() {
        return Err(Error::ChildNotExecutable {
            program: name.to_string(),
            reason: "is a directory".into(),
        });
    }
    access(path, AccessFlags::X_OK).map_err(|e| Error::ChildNotExecutable {
        program: name.to_string(),
        reason: e.desc().to_lowercase(),
    })
}

pub struct Spec {
    pub path: PathBuf,
    /// argv[0] as the user wrote it.
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Variables to set (`Some`) or remove (`None`) for the child.
    pub env: Vec<(&'static str, Option<String>)>,
    /// Runs without a terminal put the child in a process group of its own, so
    /// that signals reach it once, through tflock, and never twice.
    pub own_process_group: bool,
}

/// Spawns the child. Must be called from a thread that lives as long as the
/// child (tflock's main thread): PR_SET_PDEATHSIG fires when the spawning
/// *thread* exits, not the process.
pub fn spawn(spec: &Spec) -> std::io::Result<tokio::process::Child> {
    let mut cmd = std::process::Command::new(&spec.path);
    cmd.arg0(&spec.program).args(&spec.args);
    for (k, v) in &spec.env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    if spec.own_process_group {
        cmd.process_group(0);
    }
    let parent = getpid();
    // SAFETY: the closure runs between fork and exec and calls only
    // async-signal-safe functions (sigprocmask, prctl, getppid, _exit).
    unsafe {
        cmd.pre_exec(move || prepare_child(parent));
    }
    tokio::process::Command::from(cmd).spawn()
}

/// In the forked child, before exec.
fn prepare_child(parent: Pid) -> std::io::Result<()> {
    // The child starts with no signal blocked, whatever tflock's threads had.
    pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
    // If tflock is killed (even with SIGKILL), the child is told to stop
    // rather than run on unsupervised, holding a lease nobody renews.
    nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
    // tflock may have died between fork and prctl: then no signal will ever
    // come, and the child must not start at all.
    if getppid() != parent {
        // SAFETY: _exit is async-signal-safe and ends this forked process.
        unsafe { nix::libc::_exit(128 + Signal::SIGTERM as i32) };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_a_shell() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("tool");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths([dir.path()]).unwrap();

        assert_eq!(resolve(OsStr::new("tool"), Some(&path)).unwrap(), exe);
        assert!(matches!(
            resolve(OsStr::new("nope"), Some(&path)),
            Err(Error::ChildNotFound { .. })
        ));
        assert_eq!(
            resolve(OsStr::new("nope"), Some(&path))
                .unwrap_err()
                .exit_code(),
            127
        );
        assert_eq!(
            resolve(plain.as_os_str(), None).unwrap_err().exit_code(),
            126
        );
        assert_eq!(
            resolve(dir.path().as_os_str(), None)
                .unwrap_err()
                .exit_code(),
            126
        );
        assert_eq!(
            resolve(OsStr::new("/no/such/file"), None)
                .unwrap_err()
                .exit_code(),
            127
        );
        assert_eq!(resolve(OsStr::new(""), None).unwrap_err().exit_code(), 127);
    }
}
