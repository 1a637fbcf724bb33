//! Mutual exclusion under contention (issue #7): concurrent read-modify-write
//! of a counter in S3, with no conditional write, loses no update under
//! tflock, and the critical sections never overlap. The same workload without
//! tflock loses updates, so the check can fail.

use std::path::Path;
use std::process::Command;

use crate::support::*;

const WORKERS: usize = 16;

/// Runs per worker: `TFLOCK_EXCLUSION_K` for the long version.
fn runs_per_worker() -> usize {
    std::env::var("TFLOCK_EXCLUSION_K")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(4)
}

fn rmw(f: &Fixture, key: &str, log: &Path) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/rmw.py");
    vec![
        moto::python(),
        script.to_string_lossy().into_owned(),
        f.moto.endpoint(),
        f.bucket.clone(),
        key.to_string(),
        log.to_string_lossy().into_owned(),
    ]
}

fn counter(f: &Fixture, key: &str) -> usize {
    let out = Command::new("curl")
        .args([
            "-sf",
            "-H",
            AUTH,
            &format!("{}/{}/{key}", f.moto.endpoint(), f.bucket),
        ])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// (enter, exit) of every critical section, by entry time.
fn sections(log: &Path) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.parse().ok()?, w.next()?.parse().ok()?))
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// moto serves anonymous reads only for public objects and checks no
/// signature: any SigV4-shaped header makes a request an account's.
const AUTH: &str = "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";

/// Sets the counter to zero.
fn reset(f: &Fixture, key: &str) {
    let out = Command::new("curl")
        .args([
            "-sf",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/octet-stream",
            "-H",
            AUTH,
            "--data",
            "0",
        ])
        .arg(format!("{}/{}/{key}", f.moto.endpoint(), f.bucket))
        .output()
        .expect("curl");
    assert!(out.status.success(), "reset the counter");
}

/// Runs `k` commands from each of `WORKERS` threads at once.
fn contend(k: usize, command: impl Fn() -> Command + Sync) {
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                for _ in 0..k {
                    let out = command().output().expect("run");
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            });
        }
    });
}

#[test]
fn concurrent_read_modify_writes_lose_nothing_under_tflock() {
    let f = Fixture::new();
    let k = runs_per_worker();
    let log = f.path("sections.log");
    reset(&f, "counter");
    contend(k, || {
        let mut cmd = f.tflock("counter");
        cmd.args(["--lock-timeout", "10m", "run", "--"])
            .args(rmw(&f, "counter", &log));
        cmd
    });
    let count = counter(&f, "counter");
    let s = sections(&log);
    eprintln!(
        "exclusion: N={WORKERS} K={k}: counter {count} of {}, {} sections",
        WORKERS * k,
        s.len()
    );
    assert_eq!(count, WORKERS * k, "no update lost");
    assert_eq!(s.len(), WORKERS * k);
    for pair in s.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "critical sections overlapped: {pair:?}"
        );
    }
}

#[test]
fn the_same_workload_without_tflock_loses_updates() {
    let f = Fixture::new();
    let k = runs_per_worker();
    let log = f.path("sections.log");
    reset(&f, "bare");
    contend(k, || {
        let argv = rmw(&f, "bare", &log);
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        cmd
    });
    let count = counter(&f, "bare");
    eprintln!(
        "without tflock: N={WORKERS} K={k}: counter {count} of {}: {} updates lost",
        WORKERS * k,
        WORKERS * k - count
    );
    assert!(
        count < WORKERS * k,
        "the checker can fail: {count} of {} updates survived",
        WORKERS * k
    );
    let s = sections(&log);
    assert!(s.windows(2).any(|p| p[1].0 < p[0].1), "sections overlapped");
}
