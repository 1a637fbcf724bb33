//! One error type for the whole program, and the exit codes of DESIGN §7.
//!
//! Every failure a user can meet ends here, as one line of text and a code a
//! CI script can act on. Codes are chosen to never collide with what the child
//! itself may return in the normal course (0/1/2 of `plan -detailed-exitcode`).

use std::time::Duration;

/// The exit codes tflock itself produces (the child's own codes pass through).
pub mod exit {
    pub const OK: u8 = 0;
    /// Usage error. Never 2: `terraform plan -detailed-exitcode` uses 2 for
    /// "changes present", and a CI script must not mistake a typo for a diff.
    pub const USAGE: u8 = 64;
    /// The lock service is unreachable or refused us (credentials, network).
    pub const UNAVAILABLE: u8 = 69;
    /// An internal error (a bug, or a failure of the system itself).
    pub const INTERNAL: u8 = 70;
    /// The lock was not acquired within `--lock-timeout`.
    pub const LOCK_HELD: u8 = 75;
    /// force-unlock refused: the holder is alive or staleness was not proved.
    pub const FORCE_UNLOCK_REFUSED: u8 = 76;
    /// The lease was lost during the run; the child was interrupted.
    pub const LEASE_LOST: u8 = 77;
    /// Configuration error: no backend, no table, bad duration, bad schema.
    pub const CONFIG: u8 = 78;
    /// The child ran past `--max-duration` and was interrupted.
    pub const TIMED_OUT: u8 = 124;
    /// The child program exists but could not be executed (as a shell says).
    pub const NOT_EXECUTABLE: u8 = 126;
    /// The child program was not found (as a shell says).
    pub const NOT_FOUND: u8 = 127;
    /// Base for "died of signal N".
    pub const SIGNAL_BASE: u8 = 128;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),

    #[error("{0}")]
    Config(String),

    /// The lock service could not be reached or refused the request.
    #[error("{0}")]
    Unavailable(String),

    #[error("lock {lock_key} is held by {holder}{}", waited_suffix(*.waited))]
    LockHeld {
        lock_key: String,
        holder: String,
        waited: Duration,
    },

    #[error("{0}")]
    ForceUnlockRefused(String),

    /// The lease lapsed before the command started (nothing was started).
    #[error("{0}")]
    LeaseLost(String),

    #[error("{program}: command not found")]
    ChildNotFound { program: String },

    #[error("{program}: cannot execute: {reason}")]
    ChildNotExecutable { program: String, reason: String },

    /// A signal ended tflock before the child started (for example Ctrl-C while
    /// waiting for the lock). Nothing is left behind.
    #[error("interrupted by {name} while waiting for the lock; {}", left_behind.as_deref().unwrap_or("nothing was left behind"))]
    Interrupted {
        signal: i32,
        name: &'static str,
        /// Set when a lease of ours may remain (a request that landed
        /// unanswered and could not be taken back): what to do about it.
        left_behind: Option<String>,
        /// How long we had waited, and whether the lock was ever found held
        /// (for the history: an interrupt before any contention is no wait).
        waited: Duration,
        contended: bool,
    },

    /// A signal ended a command that holds no lock of the user's (the
    /// drill, after cleaning up): `what` says what was stopped.
    #[error("{what}: interrupted by {name}")]
    Stopped {
        signal: i32,
        name: &'static str,
        what: String,
    },

    /// Anything else: a bug or an unexpected system failure. Still one line.
    /// Exits 70 (EX_SOFTWARE), never 1, which terraform itself uses.
    #[error("{0}")]
    Internal(String),
}

fn waited_suffix(waited: Duration) -> String {
    if waited.is_zero() {
        String::new()
    } else {
        format!(" (gave up after {})", crate::duration::format(waited))
    }
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Config(_) => exit::CONFIG,
            Error::Unavailable(_) => exit::UNAVAILABLE,
            Error::LockHeld { .. } => exit::LOCK_HELD,
            Error::ForceUnlockRefused(_) => exit::FORCE_UNLOCK_REFUSED,
            Error::LeaseLost(_) => exit::LEASE_LOST,
            Error::ChildNotFound { .. } => exit::NOT_FOUND,
            Error::ChildNotExecutable { .. } => exit::NOT_EXECUTABLE,
            Error::Interrupted { signal, .. } | Error::Stopped { signal, .. } => {
                exit::SIGNAL_BASE.saturating_add(*signal as u8)
            }
            Error::Internal(_) => exit::INTERNAL,
        }
    }

    pub fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }

    /// A signal that came after the lock was granted, before the command
    /// started: nothing was started, and nothing of ours is left held.
    pub fn interrupted_before_start(signal: nix::sys::signal::Signal, waited: Duration) -> Self {
        Error::Interrupted {
            signal: signal as i32,
            name: signal.as_str(),
            left_behind: None,
            waited,
            contended: false,
        }
    }

    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
