//! The signals tflock acts on, as a stream of events.
//!
//! Handlers are installed once, before the lock is requested, so that a
//! Ctrl-C while waiting is seen, and stay for the life of the process (caught
//! signals revert to their default action in the child at exec).

use std::io;

use nix::sys::signal::Signal;
use tokio::signal::unix::{SignalKind, signal};

/// A signal sent to tflock that the supervisor handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    Interrupt,
    Terminate,
    Hangup,
    Quit,
}

impl Received {
    pub fn signal(self) -> Signal {
        match self {
            Received::Interrupt => Signal::SIGINT,
            Received::Terminate => Signal::SIGTERM,
            Received::Hangup => Signal::SIGHUP,
            Received::Quit => Signal::SIGQUIT,
        }
    }

    pub fn name(self) -> &'static str {
        self.signal().as_str()
    }
}

/// `None`: the signal was ignored when tflock started, and stays ignored.
type Watched = Option<tokio::signal::unix::Signal>;

pub struct Signals {
    interrupt: Watched,
    terminate: Watched,
    hangup: Watched,
    quit: Watched,
}

/// Whether `sig` was set to be ignored by whoever started us (`nohup` ignores
/// SIGHUP; a shell ignores SIGINT and SIGQUIT for `cmd &` in a script).
fn ignored_at_start(sig: Signal) -> bool {
    // SAFETY: a query (no new action), into a zeroed struct we own.
    unsafe {
        let mut old: nix::libc::sigaction = std::mem::zeroed();
        nix::libc::sigaction(sig as i32, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == nix::libc::SIG_IGN
    }
}

/// Handles `sig`, unless it was ignored at start: then it is left ignored,
/// for tflock and for the command (an ignored signal stays ignored across
/// exec, a handled one reverts to its default). Handling it would undo
/// what the caller asked for: `nohup tflock apply` must survive a hang-up,
/// and so must its terraform.
fn watch(sig: Signal) -> io::Result<Watched> {
    if ignored_at_start(sig) {
        return Ok(None);
    }
    signal(SignalKind::from_raw(sig as i32)).map(Some)
}

async fn next(watched: &mut Watched) {
    match watched {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

impl Signals {
    pub fn install() -> io::Result<Signals> {
        Ok(Signals {
            interrupt: watch(Signal::SIGINT)?,
            terminate: watch(Signal::SIGTERM)?,
            hangup: watch(Signal::SIGHUP)?,
            quit: watch(Signal::SIGQUIT)?,
        })
    }

    /// A signal already received and not yet handled, without waiting.
    pub fn pending(&mut self) -> Option<Received> {
        use std::task::{Context, Poll, Waker};
        let mut cx = Context::from_waker(Waker::noop());
        let recv = std::pin::pin!(self.recv());
        match recv.poll(&mut cx) {
            Poll::Ready(sig) => Some(sig),
            Poll::Pending => None,
        }
    }

    /// The next signal. Cancel-safe: a signal that arrives while this future
    /// is not polled is delivered by the next call.
    pub async fn recv(&mut self) -> Received {
        tokio::select! {
            _ = next(&mut self.interrupt) => Received::Interrupt,
            _ = next(&mut self.terminate) => Received::Terminate,
            _ = next(&mut self.hangup) => Received::Hangup,
            _ = next(&mut self.quit) => Received::Quit,
        }
    }
}

/// Resumed after SIGSTOP / Ctrl-Z: the heartbeat renews at once.
pub fn continued() -> io::Result<tokio::signal::unix::Signal> {
    signal(SignalKind::from_raw(Signal::SIGCONT as i32))
}
