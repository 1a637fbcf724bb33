//! How tflock meets the terminal it was started from, which decides where
//! the terminal's signals go (DESIGN §5).

use std::os::unix::fs::OpenOptionsExt;

use super::signals::Received;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// At a terminal: the child stays in tflock's process group, so that
    /// the terminal's Ctrl-C, Ctrl-\ and Ctrl-Z reach it as they reach
    /// tflock, and stop or suspend both together.
    pub interactive: bool,
    /// tflock leads its session (`ssh -t host tflock apply`, a terminal
    /// window's command): a hang-up of the terminal is sent to it alone.
    pub session_leader: bool,
}

impl Terminal {
    /// Interactive when stdin is a terminal (DESIGN §5), and also when
    /// tflock runs in the foreground of its controlling terminal whatever
    /// its stdin (`echo yes | tflock apply`, a script run from a prompt): a
    /// child in a group of its own would run on, unsupervised and its lease
    /// unrenewed, when Ctrl-Z suspends tflock's group. A background job with
    /// stdin redirected (`nohup tflock apply &`) stays as without a
    /// terminal: `kill %1` signals its whole group, and the child, in a group
    /// of its own, gets the forwarded signal once. CI runs have no terminal.
    pub fn detect(stdin_is_terminal: bool) -> Terminal {
        let foreground = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NOCTTY)
            .open("/dev/tty")
            .is_ok_and(|tty| nix::unistd::tcgetpgrp(&tty).ok() == Some(nix::unistd::getpgrp()));
        Terminal {
            interactive: stdin_is_terminal || foreground,
            session_leader: nix::unistd::getsid(None).ok() == Some(nix::unistd::getpid()),
        }
    }

    /// Whether the terminal delivered `sig` to the child as well: Ctrl-C
    /// and Ctrl-\ go to the whole foreground group; a hang-up goes to the
    /// session's leader only, and from it (when it exits) to the foreground
    /// group. SIGTERM never comes from a terminal.
    pub fn delivered_to_child(self, sig: Received) -> bool {
        self.interactive
            && match sig {
                Received::Interrupt | Received::Quit => true,
                Received::Hangup => !self.session_leader,
                Received::Terminate => false,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_terminal_sent_to_the_group_is_not_passed_on() {
        let all = [
            Received::Interrupt,
            Received::Quit,
            Received::Hangup,
            Received::Terminate,
        ];
        let ci = Terminal {
            interactive: false,
            session_leader: true,
        };
        assert!(all.iter().all(|s| !ci.delivered_to_child(*s)));
        let at_a_prompt = Terminal {
            interactive: true,
            session_leader: false,
        };
        let delivered: Vec<_> = all
            .into_iter()
            .filter(|s| at_a_prompt.delivered_to_child(*s))
            .collect();
        assert_eq!(
            delivered,
            [Received::Interrupt, Received::Quit, Received::Hangup]
        );
        let leading = Terminal {
            interactive: true,
            session_leader: true,
        };
        assert!(!leading.delivered_to_child(Received::Hangup));
        assert!(leading.delivered_to_child(Received::Interrupt));
    }
}
