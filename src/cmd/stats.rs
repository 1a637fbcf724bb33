//! `tflock stats`: contention per lock, from the history. On a terminal, the
//! wait and hold distributions are drawn as small bar charts, so a team sees
//! at a glance whether one state is a bottleneck.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use serde::Serialize;

use crate::cli::{GlobalArgs, StatsArgs};
use crate::duration;
use crate::error::{Error, Result};
use crate::history::{Event, Kind};
use crate::output::Reporter;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub count: usize,
    pub p50_seconds: f64,
    pub p95_seconds: f64,
    pub max_seconds: f64,
    #[serde(skip)]
    samples: Vec<Duration>,
}

impl Spread {
    fn of(mut samples: Vec<Duration>) -> Spread {
        samples.sort();
        let pick = |p: f64| percentile(&samples, p).as_secs_f64();
        Spread {
            count: samples.len(),
            p50_seconds: pick(50.0),
            p95_seconds: pick(95.0),
            max_seconds: samples.last().copied().unwrap_or_default().as_secs_f64(),
            samples,
        }
    }
}

/// Nearest-rank percentile of sorted samples (zero when empty).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LockStats {
    pub lock_key: String,
    /// Guarded runs that got the lock.
    pub runs: usize,
    /// Runs that found the lock held: those that waited for it, and waits
    /// given up (immediate refusals included).
    pub waited: usize,
    /// Waits that ended without the lock (timeout or interrupt).
    pub gave_up: usize,
    /// Time spent waiting, of runs and of waits given up (immediate
    /// refusals add no sample).
    pub wait: Spread,
    /// How long runs held the lock.
    pub hold: Spread,
    pub lease_losses: usize,
    pub timed_out: usize,
    pub takeovers: usize,
    pub force_unlocks: usize,
}

/// Contention per lock, from its events.
pub fn summarise(events: &[Event]) -> Vec<LockStats> {
    let mut by_lock: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in events {
        by_lock.entry(&e.lock_key).or_default().push(e);
    }
    by_lock
        .into_iter()
        .map(|(lock_key, events)| {
            let count = |kind: Kind| events.iter().filter(|e| e.kind == kind).count();
            let runs: Vec<&&Event> = events.iter().filter(|e| e.kind == Kind::Run).collect();
            // Every run that found the lock held: those that waited for it,
            // and waits given up (including immediate refusals).
            let waited = events
                .iter()
                .filter(|e| {
                    e.kind == Kind::Wait || (e.kind == Kind::Run && e.waited() > Duration::ZERO)
                })
                .count();
            // The wait distribution is over time actually spent waiting:
            // an immediate refusal (--lock-timeout 0) adds no sample.
            let waits: Vec<Duration> = events
                .iter()
                .filter(|e| matches!(e.kind, Kind::Wait | Kind::Run) && e.waited() > Duration::ZERO)
                .map(|e| e.waited())
                .collect();
            let outcome = |o: &str| {
                runs.iter()
                    .filter(|e| e.outcome.as_deref() == Some(o))
                    .count()
            };
            LockStats {
                lock_key: lock_key.to_string(),
                runs: runs.len(),
                waited,
                gave_up: count(Kind::Wait),
                wait: Spread::of(waits),
                // Runs whose command never started (refused by the state
                // guard, interrupted as the lock came) held nothing.
                hold: Spread::of(
                    runs.iter()
                        .filter(|e| {
                            !e.outcome
                                .as_deref()
                                .is_some_and(|o| o.starts_with("not started"))
                        })
                        .map(|e| e.held())
                        .collect(),
                ),
                lease_losses: outcome("lease_lost"),
                timed_out: outcome("timed_out"),
                takeovers: count(Kind::Takeover),
                // A force-unlock whose removal did not go as recorded adds
                // a follow-up record ("verified: not removed: …", with
                // what it removed after all): one force-unlock all the
                // same. One that removed nothing (a heartbeat landed, the
                // holder released meanwhile, the locks were already gone)
                // is no holder that died; one whose removal is not
                // confirmed may have removed it.
                force_unlocks: {
                    let (mut forced, mut nothing) = (0usize, 0usize);
                    for e in events.iter().filter(|e| e.kind == Kind::ForceUnlock) {
                        let o = e.outcome.as_deref().unwrap_or("");
                        if !o.contains(": ") {
                            forced += 1;
                        } else if e.removed.is_empty() && !o.contains("removal not confirmed") {
                            nothing += 1;
                        }
                    }
                    forced.saturating_sub(nothing)
                },
            }
        })
        .collect()
}

pub fn run(global: &GlobalArgs, args: &StatsArgs, reporter: &Reporter) -> Result<u8> {
    let (events, _since) = super::history::load(global, &args.since, args.all)?;
    let stats = summarise(&events);
    let text = if reporter.json() {
        format!(
            "{:#}\n",
            serde_json::to_value(&stats).map_err(|e| Error::Internal(e.to_string()))?
        )
    } else if stats.is_empty() {
        format!("no lock events in the last {}\n", args.since)
    } else {
        let charts = std::io::stdout().is_terminal();
        stats
            .iter()
            .map(|s| render(s, charts))
            .collect::<Vec<_>>()
            .join("\n")
    };
    crate::output::print_report(&text)?;
    Ok(0)
}

fn seconds(s: f64) -> String {
    duration::format(Duration::from_secs_f64(s))
}

fn render(s: &LockStats, charts: bool) -> String {
    let attempts = s.runs + s.gave_up;
    let share = if attempts == 0 {
        0.0
    } else {
        100.0 * s.waited as f64 / attempts as f64
    };
    let mut out = format!("{}\n", crate::lock::record::shown(&s.lock_key));
    out.push_str(&format!(
        "  runs {}   waited {} ({share:.0}%)   gave up {}   lease lost {}   timed out {}   takeovers {}   force-unlocks {}\n",
        s.runs, s.waited, s.gave_up, s.lease_losses, s.timed_out, s.takeovers, s.force_unlocks
    ));
    for (name, spread) in [("wait", &s.wait), ("hold", &s.hold)] {
        if spread.count == 0 {
            out.push_str(&format!("  {name:<5} none\n"));
            continue;
        }
        out.push_str(&format!(
            "  {name:<5} p50 {}   p95 {}   max {}   ({} sample{})\n",
            seconds(spread.p50_seconds),
            seconds(spread.p95_seconds),
            seconds(spread.max_seconds),
            spread.count,
            if spread.count == 1 { "" } else { "s" }
        ));
        if charts {
            out.push_str(&chart(&spread.samples));
        }
    }
    out
}

/// Buckets for the distributions: the lower bound of each, in seconds.
const BUCKETS: &[(u64, &str)] = &[
    (0, "< 1s"),
    (1, "1-10s"),
    (10, "10s-1m"),
    (60, "1-5m"),
    (300, "5-15m"),
    (900, "15m-1h"),
    (3600, "> 1h"),
];
const BAR: usize = 30;

/// A small horizontal bar chart of how many samples fall in each bucket.
fn chart(samples: &[Duration]) -> String {
    let mut counts = vec![0usize; BUCKETS.len()];
    for d in samples {
        let i = BUCKETS
            .iter()
            .rposition(|(lo, _)| d.as_secs() >= *lo)
            .unwrap_or(0);
        counts[i] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let mut out = String::new();
    for ((_, label), n) in BUCKETS.iter().zip(&counts) {
        let width = (n * BAR).div_ceil(max);
        out.push_str(&format!("    {label:>7} {:<BAR$} {n}\n", "█".repeat(width)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Event;

    fn run(key: &str, waited: u64, held: u64, outcome: &str) -> Event {
        let mut e = Event::new(Kind::Run, key, "a@h");
        e.waited_ms = Some(waited);
        e.held_ms = Some(held);
        e.outcome = Some(outcome.into());
        e
    }

    #[test]
    fn summarises_a_known_sequence() {
        let mut events = vec![
            run("a", 0, 10_000, "ok"),
            run("a", 5_000, 20_000, "ok"),
            run("a", 15_000, 30_000, "lease_lost"),
            run("a", 0, 40_000, "timed_out"),
            run("b", 0, 1_000, "failed"),
        ];
        let mut gave_up = Event::new(Kind::Wait, "a", "c@h");
        gave_up.waited_ms = Some(60_000);
        events.push(gave_up);
        // An immediate refusal: counted, but no wait sample.
        let mut refused = Event::new(Kind::Wait, "a", "d@h");
        refused.waited_ms = Some(0);
        events.push(refused);
        let mut forced = Event::new(Kind::ForceUnlock, "a", "ops@h");
        forced.outcome = Some("verified".into());
        events.push(forced.clone());
        // Its follow-up record: the same force-unlock.
        forced.outcome = Some("verified: not removed: terraform lock x changed meanwhile".into());
        forced.removed = vec!["the lease of b@h (fence 3)".into()];
        events.push(forced);
        // One that removed nothing (a heartbeat landed): no holder died.
        let mut refused = Event::new(Kind::ForceUnlock, "a", "ops@h");
        refused.outcome = Some("verified".into());
        events.push(refused.clone());
        refused.outcome = Some("verified: nothing removed: a heartbeat landed".into());
        events.push(refused);
        // Nor one whose locks were already gone.
        let mut gone = Event::new(Kind::ForceUnlock, "a", "ops@h");
        gone.outcome = Some("unguarded".into());
        events.push(gone.clone());
        gone.outcome = Some("unguarded: terraform lock x was no longer there".into());
        events.push(gone);
        // One not confirmed still counts (it may have removed it).
        let mut unsure = Event::new(Kind::ForceUnlock, "a", "ops@h");
        unsure.outcome = Some("verified".into());
        events.push(unsure.clone());
        unsure.outcome = Some("verified: removal not confirmed: the lease: timed out".into());
        events.push(unsure);
        events.push(Event::new(Kind::Takeover, "a", "ci@h"));
        // A run refused before its command started: a run, no hold sample.
        events.push(run("a", 0, 0, "not started: refusing to run (--strict)"));
        let stats = summarise(&events);
        assert_eq!(stats.len(), 2);
        let a = &stats[0];
        assert_eq!(
            (a.lock_key.as_str(), a.runs, a.waited, a.gave_up),
            ("a", 5, 4, 2)
        );
        assert_eq!(a.wait.count, 3, "the immediate refusal adds no wait sample");
        assert_eq!(
            (a.lease_losses, a.timed_out, a.takeovers, a.force_unlocks),
            (1, 1, 1, 2)
        );
        // Waits 5s, 15s, 60s: nearest-rank p50 = 15s, p95 = 60s.
        assert_eq!(
            (a.wait.p50_seconds, a.wait.p95_seconds, a.wait.max_seconds),
            (15.0, 60.0, 60.0)
        );
        // Holds 10, 20, 30, 40 s: p50 = 20s, p95 = 40s.
        assert_eq!(
            (a.hold.p50_seconds, a.hold.p95_seconds, a.hold.max_seconds),
            (20.0, 40.0, 40.0)
        );
        let b = &stats[1];
        assert_eq!((b.runs, b.waited, b.wait.count), (1, 0, 0));
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let s: Vec<Duration> = (1..=20).map(Duration::from_secs).collect();
        assert_eq!(percentile(&s, 50.0), Duration::from_secs(10));
        assert_eq!(percentile(&s, 95.0), Duration::from_secs(19));
        assert_eq!(percentile(&s, 100.0), Duration::from_secs(20));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn charts_bucket_and_scale() {
        let samples = [0, 0, 5, 30, 30, 30, 4000].map(Duration::from_secs);
        let c = chart(&samples);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines.len(), BUCKETS.len());
        assert!(
            lines[0].trim_start().starts_with("< 1s") && lines[0].ends_with(" 2"),
            "{c}"
        );
        assert!(
            lines[2].contains(&"█".repeat(BAR)) && lines[2].ends_with(" 3"),
            "{c}"
        );
        assert!(lines[6].ends_with(" 1"), "{c}");
        assert!(lines[3].ends_with(" 0") && !lines[3].contains('█'), "{c}");
    }
}
