//! `tflock drill`: a fire drill for the force-unlock runbook, on a scratch
//! lock next to the real one (`<lock key>.tflock-drill-<id>`), which it
//! never touches. A real tflock takes the scratch lease and is killed with
//! SIGKILL (its child gets the parent-death signal, as in a lost CI runner);
//! `status` shows the stuck lease; the guarded force-unlock proves the holder
//! dead and removes it; every step is reported with its duration.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;

use super::runtime;
use crate::cli::{DrillArgs, GlobalArgs};
use crate::duration;
use crate::error::{Error, Result};
use crate::lock::observe::{self, Verdict};
use crate::lock::{LeaseTable, record::LeaseState};
use crate::output::Reporter;
use crate::settings::{Target, process_env};

/// The drill's lease unless `--lease` says otherwise: short, so the drill
/// takes seconds, long enough to show the heartbeat at work.
const DRILL_LEASE: &str = "5s";

pub fn run(global: &GlobalArgs, _args: &DrillArgs, reporter: &Reporter) -> Result<u8> {
    let workdir = std::env::current_dir()
        .map_err(|e| Error::config(format!("cannot read the working directory: {e}")))?;
    let target = Target::resolve(global, &workdir, &process_env)?;
    let id = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let scratch = format!("{}.tflock-drill-{id}", target.lock_key);
    let lease = global
        .lease
        .clone()
        .unwrap_or_else(|| DRILL_LEASE.to_string());
    let mut out = Steps::new(reporter.json());
    out.say(&format!(
        "fire drill on the scratch lock {scratch} (table {}); the real lock {} is not touched",
        target.table, target.lock_key
    ));

    // 1. A real tflock takes the scratch lease and holds it with a heartbeat.
    let exe = std::env::current_exe()
        .map_err(|e| Error::Internal(format!("cannot find tflock itself: {e}")))?;
    let mut holder = Command::new(exe);
    holder
        .args([
            "--table",
            &target.table,
            "--lock-key",
            &scratch,
            "--lease",
            &lease,
            "-q",
        ])
        .args(
            global
                .region
                .as_ref()
                .map(|r| vec!["--region".to_string(), r.clone()])
                .unwrap_or_default(),
        )
        .args(["run", "--", "sleep", "3600"])
        .env_remove("TFLOCK_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let started = Instant::now();
    let mut holder = holder
        .spawn()
        .map_err(|e| Error::Internal(format!("cannot start the drill's holder: {e}")))?;

    let result = runtime()?.block_on(async {
        let dynamo = crate::aws::connect(&target.aws).await?;
        let table = LeaseTable::new(dynamo, &target.table, &scratch);
        let record = loop {
            if let Ok(Some(r)) = table.read().await
                && r.is_held()
            {
                break r;
            }
            if let Ok(Some(status)) = holder.try_wait() {
                return Err(Error::Internal(format!(
                    "the drill's holder exited early ({status})"
                )));
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(Error::Internal(
                    "the drill's holder did not take the scratch lease within 30s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        out.step(
            "a tflock took the scratch lease",
            &format!(
                "pid {}, fence {}, lease {}",
                record.pid,
                record.fence,
                duration::format(record.lease)
            ),
            started.elapsed(),
        );

        // 2. It dies without releasing: SIGKILL, as a lost runner.
        let _ = holder.kill();
        let _ = holder.wait();
        let died = Instant::now();
        out.step(
            "the holder was killed (SIGKILL): nothing released its lease",
            "",
            Duration::ZERO,
        );

        // 3. What an operator sees.
        let seen = table.read().await.map_err(|e| e.error)?;
        let still_held = seen.as_ref().is_some_and(|r| r.state == LeaseState::Held);
        let shown =
            super::status::status_text(&scratch, &target.table, seen.as_ref(), None, Utc::now());
        out.step(
            "tflock status shows the lease still held",
            &shown.trim_end().replace('\n', "\n      "),
            Duration::ZERO,
        );
        if !still_held {
            return Err(Error::Internal(
                "the scratch lease was released: the drill expected it stuck".into(),
            ));
        }

        // 4. The guarded force-unlock.
        let observing = Instant::now();
        let verdict = observe::prove_stale(&table, record, |_| {}).await?;
        let (record, observed) = match verdict {
            Verdict::Stale { record, observed } => (record, observed),
            Verdict::Alive(why) => {
                return Err(Error::ForceUnlockRefused(format!(
                    "the drill's holder looked alive: {why}"
                )));
            }
            Verdict::Free => {
                return Err(Error::Internal(
                    "the scratch lease disappeared during the drill".into(),
                ));
            }
        };
        let who = format!(
            "{}@{} (drill)",
            crate::holder::user_name(&process_env),
            crate::holder::host_name()
        );
        if !table
            .force_release(&record, &who, true)
            .await
            .map_err(|e| e.error)?
        {
            return Err(Error::ForceUnlockRefused(
                "a heartbeat landed: the drill's holder was alive".into(),
            ));
        }
        out.step(
            "force-unlock --verify proved the holder dead and removed the lease",
            &format!(
                "no heartbeat for {} (lease {} + margin)",
                duration::format(observed),
                duration::format(record.lease)
            ),
            observing.elapsed(),
        );

        // 5. Clean up the scratch item.
        let _ = table.delete_released().await;
        Ok::<_, Error>(died.elapsed())
    });
    // Never leave the drill's holder behind, whatever happened.
    let _ = holder.kill();
    let _ = holder.wait();
    let recovery = result?;
    out.step(
        "recovered",
        &format!(
            "the lock was usable again {} after its holder died",
            duration::format(recovery)
        ),
        Duration::ZERO,
    );
    out.finish();
    Ok(0)
}

/// The drill's report: numbered steps on stdout, or one JSON object.
struct Steps {
    json: bool,
    steps: Vec<serde_json::Value>,
    n: usize,
}

impl Steps {
    fn new(json: bool) -> Steps {
        Steps {
            json,
            steps: Vec::new(),
            n: 0,
        }
    }

    fn say(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }

    fn step(&mut self, what: &str, detail: &str, took: Duration) {
        self.n += 1;
        self.steps.push(
            serde_json::json!({"step": what, "detail": detail, "seconds": took.as_secs_f64()}),
        );
        if self.json {
            return;
        }
        let took = if took.is_zero() {
            String::new()
        } else {
            format!(" ({})", duration::format(took))
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}. {what}{took}", self.n);
        if !detail.is_empty() {
            let _ = writeln!(out, "      {detail}");
        }
    }

    fn finish(self) {
        if self.json {
            println!(
                "{:#}",
                serde_json::json!({"result": "recovered", "steps": self.steps})
            );
        }
    }
}
