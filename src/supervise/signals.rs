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

    /// Signals a terminal sends to its whole foreground process group.
    pub fn comes_from_terminal(self) -> bool {
        !matches!(self, Received::Terminate)
    }
}

pub struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn install() -> io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
            quit: signal(SignalKind::quit())?,
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
            _ = self.interrupt.recv() => Received::Interrupt,
            _ = self.terminate.recv() => Received::Terminate,
            _ = self.hangup.recv() => Received::Hangup,
            _ = self.quit.recv() => Received::Quit,
        }
    }
}

/// Resumed after SIGSTOP / Ctrl-Z: the heartbeat renews at once.
pub fn continued() -> io::Result<tokio::signal::unix::Signal> {
    signal(SignalKind::from_raw(Signal::SIGCONT as i32))
}
