//! The holder's own view of how long its lease is safe (DESIGN §4).
//!
//! Measured on CLOCK_BOOTTIME, which, unlike the monotonic clock, keeps
//! counting while the machine sleeps: after a laptop resumes, the holder must
//! know that its lease may have been proved stale meanwhile.

use std::time::Duration;

use nix::time::{ClockId, clock_gettime};

/// Time since boot, including suspend.
pub fn boot_clock() -> Duration {
    clock_gettime(ClockId::CLOCK_BOOTTIME)
        .map(Duration::from)
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    lease: Duration,
    heartbeat: Duration,
    /// Start of the last successful renewal (or of the acquisition) + lease.
    /// No observer can prove the lease stale before this: it needs a full
    /// lease of silence that starts no earlier than that write.
    valid_until: Duration,
}

impl Deadline {
    /// `started` is the boot-clock time at which the acquiring request was sent.
    pub fn new(lease: Duration, heartbeat: Duration, started: Duration) -> Deadline {
        Deadline {
            lease,
            heartbeat,
            valid_until: started + lease,
        }
    }

    /// A renewal sent at `started` succeeded.
    pub fn renewed(&mut self, started: Duration) {
        self.valid_until = self.valid_until.max(started + self.lease);
    }

    /// Whether renewals have failed for so long that the deadline comes within
    /// one heartbeat: the child must be interrupted now, while the lease is
    /// still ours, rather than run on once another may hold it.
    pub fn must_fence(&self, now: Duration) -> bool {
        now + self.heartbeat >= self.valid_until
    }

    /// How long until [`must_fence`](Self::must_fence) becomes true.
    pub fn time_to_fence(&self, now: Duration) -> Duration {
        self.valid_until
            .saturating_sub(self.heartbeat)
            .saturating_sub(now)
    }

    /// The pause between attempts after a failed renewal: quicker than the
    /// heartbeat, so a short outage is ridden through.
    pub fn retry_interval(&self) -> Duration {
        (self.heartbeat / 4).max(Duration::from_millis(100))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn fences_one_heartbeat_before_the_lease_could_be_proved_stale() {
        let d = Deadline::new(S(30), S(10), S(100));
        assert!(!d.must_fence(S(100)));
        assert!(!d.must_fence(S(119)));
        assert!(d.must_fence(S(120)));
        assert_eq!(d.time_to_fence(S(105)), S(15));
        assert_eq!(d.time_to_fence(S(125)), S(0));
    }

    #[test]
    fn a_renewal_moves_the_deadline_from_when_it_was_sent() {
        let mut d = Deadline::new(S(30), S(10), S(100));
        d.renewed(S(110));
        assert!(!d.must_fence(S(129)));
        assert!(d.must_fence(S(130)));
        // A late response for an older renewal never moves it back.
        d.renewed(S(105));
        assert!(!d.must_fence(S(129)));
    }

    #[test]
    fn a_suspended_holder_fences_on_resume() {
        let d = Deadline::new(S(30), S(10), S(100));
        assert!(d.must_fence(S(100 + 3600)));
    }

    #[test]
    fn boot_clock_moves_forward() {
        let a = boot_clock();
        std::thread::sleep(Duration::from_millis(5));
        assert!(boot_clock() > a);
    }
}
