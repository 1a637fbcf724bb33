//! The state guard around a guarded run (issue #4): read the state object
//! before the command and after it, compare what the last release saw with
//! what is there now, warn (or, with `--strict`, refuse) when someone wrote
//! it without the lock, and back it up first when the bucket keeps no
//! versions and `--backup` asks.

use crate::aws::S3;
use crate::error::Error;
use crate::history::{Event, History, Kind};
use crate::lock::Lease;
use crate::output::Reporter;
use crate::state::{self, Seen};

pub struct StateGuard {
    s3: S3,
    bucket: String,
    key: String,
    lock_key: String,
    pub strict: bool,
    pub backup: bool,
}

impl StateGuard {
    pub fn new(
        s3: S3,
        bucket: &str,
        key: &str,
        lock_key: &str,
        strict: bool,
        backup: bool,
    ) -> StateGuard {
        StateGuard {
            s3,
            bucket: bucket.to_string(),
            key: key.to_string(),
            lock_key: lock_key.to_string(),
            strict,
            backup,
        }
    }

    fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// The state now; a failure is a warning (the lock is tflock's job;
    /// terraform reports its own trouble reading state) and `None`.
    pub async fn observe(&self, reporter: &Reporter) -> Option<Seen> {
        match state::observe(&self.s3, &self.bucket, &self.key, None).await {
            Ok(seen) => Some(seen),
            Err(e) => {
                reporter.warn(&format!("could not read the state to check it: {e}"));
                None
            }
        }
    }

    /// As [`StateGuard::observe`], given up (with a warning saying `so`,
    /// what that means) after `limit`.
    pub async fn observe_within(
        &self,
        limit: std::time::Duration,
        so: &str,
        reporter: &Reporter,
    ) -> Option<Seen> {
        match tokio::time::timeout(limit, self.observe(reporter)).await {
            Ok(seen) => seen,
            Err(_) => {
                reporter.warn(&format!(
                    "could not read the state {} within {}: {so}",
                    self.url(),
                    crate::duration::format(limit)
                ));
                None
            }
        }
    }

    /// After acquiring: compares the state with what the last release saw.
    /// A change is reported and recorded; with `--strict` it (and a state
    /// that is not JSON) refuses the run (78) until `tflock state ack`.
    pub async fn check(
        &self,
        now: Option<&Seen>,
        lease: &Lease,
        who: &str,
        history: &History,
        reporter: &Reporter,
    ) -> Result<(), Error> {
        let Some(now) = now else {
            // Unreadable (already warned): with a baseline to compare, the
            // check --strict counts on cannot be made.
            if self.strict && lease.state_seen.is_some() {
                return Err(Error::Unavailable(format!(
                    "could not read the state {} to check it; not running (--strict)",
                    self.url()
                )));
            }
            return Ok(());
        };
        if let Some(s) = now.snapshot()
            && s.not_json
        {
            let what = format!(
                "the state object {} is not a terraform state (not JSON)",
                self.url()
            );
            // Accepted as it is (`tflock state ack`, or a run without
            // --strict that left it so): a warning, not a refusal.
            let accepted = lease
                .state_seen
                .as_ref()
                .is_some_and(|seen| state::compare(seen, now) == state::Change::Unchanged);
            if self.strict && !accepted {
                return Err(Error::config(format!(
                    "{what}; refusing to run (--strict): check it, then `tflock state ack`"
                )));
            }
            reporter.warn(&what);
        }
        let Some(before) = &lease.state_seen else {
            return Ok(()); // the first guarded run, or after a recovery: no baseline
        };
        let change = state::compare(before, now);
        if change == state::Change::OtherObject {
            // One lock key used for two states (`--lock-key`): the baseline
            // is the other's; a false alarm (and, with --strict, a refusal
            // each state's runs would re-arm for the other) otherwise.
            reporter.detail(&format!(
                "the state remembered with {} is of {}, not {}: nothing to compare",
                self.lock_key,
                before.of().unwrap_or("another object"),
                self.url()
            ));
            return Ok(());
        }
        let Some(description) = change.describe(&self.lock_key) else {
            return Ok(());
        };
        let mut event = Event::new(Kind::OutsideWrite, &self.lock_key, who);
        event.state_before = Some(state::reference(before));
        event.state_after = Some(state::reference(now));
        event.reason = Some(description.clone());
        super::run::record(history, &event, reporter).await;
        let advice = if before
            .snapshot()
            .and_then(|s| s.version_id.as_ref())
            .is_some()
        {
            " (`tflock state versions` lists the versions to restore from)"
        } else {
            ""
        };
        if self.strict {
            return Err(Error::config(format!(
                "{description}{advice}; refusing to run (--strict): check it, then `tflock state ack`"
            )));
        }
        if change.is_alarming() {
            reporter.warn(&format!("!!! {description}{advice}"));
        } else {
            reporter.warn(&format!("{description}{advice}"));
        }
        Ok(())
    }

    /// With `--backup`, copies the state before the run when the bucket
    /// keeps no versions (a versioned bucket already keeps it). A copy that
    /// fails refuses the run: whoever asked for a backup is counting on it.
    pub async fn back_up(&self, now: Option<&Seen>, reporter: &Reporter) -> Result<(), Error> {
        if !self.backup {
            return Ok(());
        }
        if now.is_none() {
            return Err(Error::Unavailable(format!(
                "could not read {} to back it up; not running (--backup)",
                self.url()
            )));
        }
        match now.and_then(Seen::snapshot) {
            None => reporter.detail("no state object yet: nothing to back up"),
            Some(s) if s.version_id.is_some() => reporter.detail(&format!(
                "the bucket keeps versions: version {} is the backup",
                s.version_id.as_deref().unwrap_or_default()
            )),
            Some(_) => match state::backup(&self.s3, &self.bucket, &self.key).await {
                Ok(copy) => reporter.info(&format!(
                    "backed up the state to s3://{}/{copy}",
                    self.bucket
                )),
                Err(e) => return Err(Error::Unavailable(format!("{e}; not running (--backup)"))),
            },
        }
        Ok(())
    }
}
