//! `tflock drill`: a fire drill for the force-unlock runbook, on a scratch
//! lock next to the real one (`<lock key>.tflock-drill-<id>`), which it
//! never touches. A real tflock takes the scratch lease and is killed with
//! SIGKILL (its child gets the parent-death signal, as in a lost CI runner);
//! `status` shows the stuck lease; the guarded force-unlock proves the holder
//! dead and removes it; every step is reported with its duration.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;

use super::runtime;
use crate::cli::{DrillArgs, GlobalArgs};
use crate::duration;
use crate::error::{Error, Result};
use crate::lock::{LeaseTable, record::LeaseState};
use crate::output::Reporter;
use crate::settings::{Target, process_env};
use crate::supervise::signals::Signals;

/// The drill's lease unless `--lease` says otherwise: short, so the drill
/// takes seconds, long enough to show the heartbeat at work.
const DRILL_LEASE: &str = "5s";

/// How long the clean-up may take (the table may be what failed).
const CLEAN_UP: Duration = Duration::from_secs(30);

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
    let exe = std::env::current_exe()
        .map_err(|e| Error::Internal(format!("cannot find tflock itself: {e}")))?;
    // Both helpers are this tflock, on the scratch lock, with the drill's
    // own lease: nothing from the environment may change which lock, or
    // make the lease settings disagree.
    let tflock = |args: &[&str]| {
        let mut cmd = Command::new(&exe);
        for var in [
            "TFLOCK_LOCK_KEY",
            "TFLOCK_TABLE",
            "TFLOCK_LEASE",
            "TFLOCK_HEARTBEAT",
            "TFLOCK_LOCK_TIMEOUT",
            "TFLOCK_MAX_DURATION",
            "TFLOCK_TAKEOVER_STALE",
            "TFLOCK_OUTPUT",
            "TFLOCK_TOKEN",
        ] {
            cmd.env_remove(var);
        }
        // Nor from a .tflock.toml (a heartbeat set there would disagree
        // with the drill's lease; strict, output, max-duration would change
        // how the helpers behave).
        cmd.env(crate::config_file::ENV, "off");
        // The directory's backend gives the helpers its endpoint and region,
        // but its terraform lock, lockfile and state are the real lock's:
        // the scratch lock's force-unlock must never judge (or remove) them.
        cmd.env(crate::settings::DRILL_SCRATCH, "1");
        cmd.args([
            "--table",
            &target.table,
            "--lock-key",
            &scratch,
            "--lease",
            &lease,
        ])
        // The region the drill resolved (the backend's over a file's), so
        // that the helpers and the drill's own clean-up meet in one table.
        .args(
            target
                .aws
                .region
                .iter()
                .flat_map(|r| ["--region", r.as_str()]),
        )
        .args(args)
        .stdin(Stdio::null())
        // Out of the terminal's reach (the drill stops them itself, then
        // cleans up), and never running on without the drill.
        .process_group(0);
        // SAFETY: prctl is async-signal-safe; nothing else runs between
        // fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)?;
                Ok(())
            });
        }
        cmd
    };
    let mut out = Steps::new(reporter.json());
    out.say(&format!(
        "fire drill on the scratch lock {scratch} (table {}); the real lock {} is not touched",
        target.table, target.lock_key
    ));

    // Ctrl-C (or a TERM, a hang-up, a quit) ends the drill through its
    // clean-up below, not before it: no scratch item stays behind. The
    // handlers go in before the holder exists (signals ignored at start,
    // `nohup`, stay ignored).
    let runtime = runtime()?;
    let mut signals = {
        let _inside = runtime.enter();
        Signals::install()
            .map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))?
    };

    // 1. A real tflock takes the scratch lease and holds it with a heartbeat.
    let started = Instant::now();
    let mut holder = tflock(&["-q", "run", "--", "sleep", "3600"])
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| Error::Internal(format!("cannot start the drill's holder: {e}")))?;
    let result = runtime.block_on(async {
        let dynamo = match crate::aws::connect(&target.aws).await {
            Ok(dynamo) => dynamo,
            Err(e) => {
                let _ = holder.kill();
                let _ = holder.wait();
                return Err(e);
            }
        };
        let table = LeaseTable::new(dynamo, &target.table, &scratch);
        let result = tokio::select! {
            result = drill(
                &table,
                &mut holder,
                &tflock,
                &scratch,
                &target.table,
                started,
                &mut out,
            ) => result,
            received = signals.recv() => Err(Error::Stopped {
                signal: received.signal() as i32,
                name: received.name(),
                what: "the drill was stopped".into(),
            }),
        };
        // Never leave the drill's holder or its scratch lease behind; bounded
        // (the table may be what failed), and a second signal ends it.
        let _ = holder.kill();
        let _ = holder.wait();
        let clean_up = async {
            if result.is_err()
                && let Ok(Some(r)) = table.read().await
                && r.is_held()
            {
                let _ = table
                    .force_release(&r, "tflock drill (clean-up)", false)
                    .await;
            }
            let _ = table.delete_released().await;
            crate::history::History::new(
                table.dynamo().clone(),
                &target.table,
                crate::history::DEFAULT_RETENTION,
            )
            .forget(&scratch, Utc::now())
            .await;
            matches!(table.read().await, Ok(None))
        };
        let cleaned = tokio::select! {
            cleaned = tokio::time::timeout(CLEAN_UP, clean_up) => cleaned.unwrap_or(false),
            _ = signals.recv() => false,
        };
        if !cleaned {
            reporter.warn(&format!(
                "the drill could not remove its scratch lock {scratch}: remove it with `tflock \
                 --table {} --lock-key {scratch} force-unlock --verify`",
                target.table
            ));
        }
        result
    });
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

async fn drill(
    table: &LeaseTable,
    holder: &mut std::process::Child,
    tflock: &dyn Fn(&[&str]) -> Command,
    scratch: &str,
    table_name: &str,
    started: Instant,
    out: &mut Steps,
) -> Result<Duration> {
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
    if !seen.as_ref().is_some_and(|r| r.state == LeaseState::Held) {
        return Err(Error::Internal(
            "the scratch lease was released: the drill expected it stuck".into(),
        ));
    }
    let shown = super::status::status_text(scratch, table_name, seen.as_ref(), None, Utc::now());
    out.step(
        "tflock status shows the lease still held",
        &shown.trim_end().replace('\n', "\n      "),
        Duration::ZERO,
    );

    // 4. The guarded force-unlock, the real command (awaited, so that an
    // interruption can end it: killed when dropped).
    let observing = Instant::now();
    let result = tokio::process::Command::from(tflock(&[
        "force-unlock",
        "--verify",
        "--reason",
        "tflock drill",
    ]))
    .kill_on_drop(true)
    .output()
    .await
    .map_err(|e| Error::Internal(format!("cannot run force-unlock: {e}")))?;
    let said = String::from_utf8_lossy(&result.stdout).trim().to_string();
    if !result.status.success() {
        return Err(Error::ForceUnlockRefused(format!(
            "the drill's force-unlock failed: {}",
            String::from_utf8_lossy(&result.stderr).trim()
        )));
    }
    out.step(
        "tflock force-unlock --verify proved the holder dead and removed the lease",
        &said,
        observing.elapsed(),
    );
    if table
        .read()
        .await
        .map_err(|e| e.error)?
        .is_some_and(|r| r.is_held())
    {
        return Err(Error::Internal(
            "the scratch lease is still held after force-unlock".into(),
        ));
    }
    Ok(died.elapsed())
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
        // A closed stdout (`| head`) is not an error of the drill.
        if !self.json {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
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
            let _ = writeln!(
                std::io::stdout().lock(),
                "{:#}",
                serde_json::json!({"result": "recovered", "steps": self.steps})
            );
        }
    }
}
