//! Who is taking the lock: the identity written into the lease record.

use std::ffi::OsString;

use crate::settings::EnvLookup;
use crate::{ci, redact};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub user: String,
    pub host: String,
    pub pid: u32,
    /// Boot, pid namespace and start time: see `process.rs`.
    pub process: String,
    /// "apply", "state mv", "run: terragrunt".
    pub operation: String,
    /// The redacted command line.
    pub command: String,
    pub ci_url: Option<String>,
}

impl Holder {
    pub fn new(operation: String, program: &str, args: &[OsString], env: EnvLookup) -> Holder {
        Holder {
            user: user_name(env),
            host: host_name(),
            pid: std::process::id(),
            process: crate::process::identity(),
            operation,
            command: redact::command_line(program, args),
            ci_url: ci::job_url(env),
        }
    }

    /// `user@host`, the same form terraform writes in its lock's `Who`.
    pub fn who(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }
}

/// The account name as terraform's `user.Current()` finds it: the password
/// database first, `$USER` when the uid has no entry (containers).
pub fn user_name(env: EnvLookup) -> String {
    let uid = nix::unistd::geteuid();
    if let Ok(Some(user)) = nix::unistd::User::from_uid(uid) {
        return user.name;
    }
    env("USER")
        .or_else(|| env("LOGNAME"))
        .unwrap_or_else(|| uid.to_string())
}

pub fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}
