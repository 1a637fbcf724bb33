//! Day-to-day operations (issue #3): --max-duration, status --all, history,
//! stats and the fire drill.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use nix::sys::signal::Signal;
use serde_json::Value;

use crate::support::*;

fn json(out: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

#[test]
fn max_duration_interrupts_once_and_exits_124() {
    let f = Fixture::new();
    let log = f.path("child.log");
    let out = output(
        f.tflock("slowpoke")
            .args(["--max-duration", "1s", "run"])
            .args(f.sigchild(&log, &["--sleep", "30", "--linger", "0.3"])),
    );
    assert_eq!(code(&out), 124, "{}", stderr(&out));
    assert_eq!(
        signals_received(&log),
        ["SIGINT"],
        "interrupted exactly once"
    );
    assert!(
        stderr(&out).contains("--max-duration 1s"),
        "{}",
        stderr(&out)
    );
    assert_eq!(f.lease_state("slowpoke").as_deref(), Some("released"));
    let run = f.records("slowpoke", "run").into_iter().next().unwrap();
    assert_eq!(run["outcome"], "timed_out");
    assert_eq!(run["exit_code"], 124);
}

#[test]
fn status_all_lists_every_lease_and_orphaned_terraform_locks() {
    let f = Fixture::new();
    let log = f.path("child.log");
    let holder = spawn(
        f.tflock("app/held")
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "30"])),
    );
    wait_child_ready("the holder's child", &log);
    assert_eq!(
        code(&output(f.tflock("app/free").args(["run", "--", "true"]))),
        0
    );
    let info = r#"{"ID":"0000-1111","Operation":"OperationTypeApply","Info":"","Who":"bob@laptop","Version":"1.11.4","Created":"2026-11-26T10:00:00Z","Path":"bucket/orphan.tfstate"}"#;
    f.dynamo.put(
        &f.table,
        HashMap::from([
            (
                "LockID".to_string(),
                AttributeValue::S("bucket/orphan.tfstate".into()),
            ),
            ("Info".to_string(), AttributeValue::S(info.into())),
        ]),
    );
    f.dynamo.put(
        &f.table,
        HashMap::from([
            (
                "LockID".to_string(),
                AttributeValue::S("bucket/orphan.tfstate-md5".into()),
            ),
            ("Digest".to_string(), AttributeValue::S("abc".into())),
        ]),
    );
    f.dynamo.put(
        &f.table,
        HashMap::from([(
            "LockID".to_string(),
            AttributeValue::S("tflock:broken".into()),
        )]),
    );
    // A bucket whose name starts with "tflock" is still terraform's.
    f.dynamo.put(
        &f.table,
        HashMap::from([
            (
                "LockID".to_string(),
                AttributeValue::S("tflock-states/prod.tfstate".into()),
            ),
            (
                "Info".to_string(),
                AttributeValue::S(info.replace("bob@laptop", "carol@ci")),
            ),
        ]),
    );

    let out = output(f.tflock("x").args(["status", "--all", "--output", "json"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let rows = json(&out);
    let rows = rows.as_array().unwrap();
    let by_key: HashMap<&str, &Value> = rows
        .iter()
        .map(|r| (r["lock_key"].as_str().unwrap(), r))
        .collect();
    assert_eq!(
        rows.len(),
        5,
        "held, free, broken, two orphans (no md5, no history): {rows:?}"
    );
    assert_eq!(by_key["tflock-states/prod.tfstate"]["owner"], "carol@ci");
    assert_eq!(by_key["app/held"]["held"], true);
    assert_eq!(by_key["app/held"]["pid"], holder.id());
    assert_eq!(by_key["app/free"]["held"], false);
    assert_eq!(by_key["broken"]["kind"], "unreadable");
    assert_eq!(by_key["bucket/orphan.tfstate"]["kind"], "terraform");
    assert_eq!(by_key["bucket/orphan.tfstate"]["owner"], "bob@laptop");
    // `locked`: would a run wait? The lease held, or terraform's lock.
    assert_eq!(by_key["app/held"]["locked"], true);
    assert_eq!(by_key["app/free"]["locked"], false);
    assert_eq!(by_key["bucket/orphan.tfstate"]["locked"], true);

    let text = stdout(&output(f.tflock("x").args(["status", "--all"])));
    assert!(
        text.contains("app/held") && text.contains("terraform") && text.contains("no tflock lease"),
        "{text}"
    );
    signal(&holder, Signal::SIGTERM);
    finish(holder, Duration::from_secs(20));
}

#[test]
fn history_and_stats_account_for_a_known_sequence() {
    let f = Fixture::new();
    // A holds the lock; C gives up at once; B waits in line, then runs
    // once A is stopped; D runs past --max-duration.
    let log = f.path("a.log");
    let a = spawn(
        f.tflock("seq")
            .arg("run")
            .args(f.sigchild(&log, &["--sleep", "60", "--linger", "1"])),
    );
    wait_child_ready("A's child", &log);
    let c = output(f.tflock("seq").args(["run", "--", "true"]));
    assert_eq!(code(&c), 75);
    let b = spawn(
        f.tflock("seq")
            .args(["--lock-timeout", "60s", "run", "--", "true"]),
    );
    wait_until("B in line", Duration::from_secs(20), || {
        f.lease_item("seq")
            .is_some_and(|i| i.keys().any(|k| k.starts_with("wait_")))
    });
    signal(&a, Signal::SIGTERM);
    assert_eq!(code(&finish(a, Duration::from_secs(20))), 143);
    let b = finish(b, Duration::from_secs(30));
    assert_eq!(code(&b), 0, "{}", stderr(&b));
    let d = output(
        f.tflock("seq")
            .args(["--max-duration", "300ms", "run", "--", "sleep", "5"]),
    );
    assert_eq!(code(&d), 124);

    let history = json(&output(
        f.tflock("seq").args(["history", "--output", "json"]),
    ));
    let kinds: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["wait", "run", "run", "run"], "{history:#}");
    let text = stdout(&output(f.tflock("seq").arg("history")));
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(
        text.contains("gave_up") && text.contains("timed_out"),
        "{text}"
    );

    let stats = json(&output(f.tflock("seq").args(["stats", "--output", "json"])));
    let s = &stats[0];
    assert_eq!(s["lock_key"], "seq");
    assert_eq!(s["runs"], 3);
    assert_eq!(s["waited"], 2, "B waited, C gave up: {s:#}");
    assert_eq!(s["gave_up"], 1);
    assert_eq!(s["timed_out"], 1);
    assert_eq!(s["lease_losses"], 0);
    assert_eq!(s["hold"]["count"], 3);
    assert!(
        s["hold"]["max_seconds"].as_f64().unwrap() >= 1.0,
        "A held until it was stopped, its child lingering 1s: {s:#}"
    );
    let b_wait = s["wait"]["max_seconds"].as_f64().unwrap();
    assert!((0.5..10.0).contains(&b_wait), "B waited for A: {s:#}");
    let text = stdout(&output(f.tflock("seq").arg("stats")));
    assert!(
        text.contains("runs 3") && text.contains("waited 2"),
        "{text}"
    );
}

/// The fences of the run records a lease item holds (its slots `run_<n>`,
/// each in the slot of its fence).
fn runs_kept(f: &Fixture, key: &str) -> Vec<u64> {
    let item = f.lease_item(key).expect("the lease item");
    let mut fences: Vec<u64> = (0..4)
        .filter_map(|slot| {
            let json = item.get(&format!("run_{slot}"))?.as_s().unwrap();
            let fence = serde_json::from_str::<Value>(json).unwrap()["fence"]
                .as_u64()
                .unwrap();
            assert_eq!(fence % 4, slot, "in its own slot");
            Some(fence)
        })
        .collect();
    assert!(
        item.get("runs")
            .is_none_or(|m| m.as_m().unwrap().is_empty()),
        "nothing left in an earlier build's map: {item:?}"
    );
    fences.sort();
    fences
}

/// The fences of the runs recorded in `key`'s hour items alone (not the
/// lease item).
fn copied_events(f: &Fixture, key: &str) -> Vec<u64> {
    let prefix = format!("tflock-history:{key}@");
    let mut fences: Vec<u64> = f
        .dynamo
        .scan(&f.table)
        .into_iter()
        .filter(|i| dynamo::s(i, "LockID").starts_with(&prefix))
        .flat_map(|i| match i.get("events") {
            Some(aws_sdk_dynamodb::types::AttributeValue::L(l)) => l.clone(),
            _ => Vec::new(),
        })
        // Runs' (other events, without a fence, are left out).
        .filter_map(|v| serde_json::from_str::<Value>(v.as_s().unwrap()).unwrap()["fence"].as_u64())
        .collect();
    fences.sort();
    fences
}

#[test]
fn run_records_ride_on_the_release_and_reach_the_history_items_in_batches() {
    let f = Fixture::new();
    // Short runs: each release carries its run's record into the lease
    // item; the one that finds four there copies them to the history first.
    for _ in 0..6 {
        assert_eq!(
            code(&output(f.tflock("rec").args(["run", "--", "true"]))),
            0
        );
    }
    assert_eq!(copied_events(&f, "rec"), [1, 2, 3, 4]);
    assert_eq!(runs_kept(&f, "rec"), [5, 6]);
    let history = json(&output(
        f.tflock("rec").args(["history", "--output", "json"]),
    ));
    let fences: Vec<u64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fence"].as_u64().unwrap())
        .collect();
    assert_eq!(fences, [1, 2, 3, 4, 5, 6], "each run once: {history:#}");
    let all = json(&output(
        f.tflock("rec")
            .args(["history", "--all", "--output", "json"]),
    ));
    assert_eq!(all.as_array().unwrap().len(), 6, "{all:#}");
    // A record an earlier build left in its `runs` map (as fence 6 would
    // have been): listed, and copied like the others.
    let mut item = f.lease_item("rec").unwrap();
    let old = item["run_2"]
        .as_s()
        .unwrap()
        .replace("\"fence\":6", "\"fence\":60");
    item.insert(
        "runs".into(),
        aws_sdk_dynamodb::types::AttributeValue::M(
            [(
                "60".to_string(),
                aws_sdk_dynamodb::types::AttributeValue::S(old),
            )]
            .into(),
        ),
    );
    f.dynamo.put(&f.table, item);
    let listed = json(&output(
        f.tflock("rec").args(["history", "--output", "json"]),
    ));
    assert_eq!(listed.as_array().unwrap().len(), 7, "{listed:#}");
    // A run that lasts copies what it found while its command runs; its own
    // record is then the only one the item keeps.
    assert_eq!(
        code(&output(f.tflock("rec").args(["run", "--", "sleep", "5.5"]))),
        0
    );
    assert_eq!(copied_events(&f, "rec"), [1, 2, 3, 4, 5, 6, 60]);
    assert_eq!(runs_kept(&f, "rec"), [7]);
    let stats = json(&output(f.tflock("rec").args(["stats", "--output", "json"])));
    assert_eq!(stats[0]["runs"], 8, "{stats:#}");
}

#[test]
fn a_lease_item_whose_records_cannot_be_copied_never_grows_and_every_run_is_released() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let f = Fixture::new();
    let started = chrono::Utc::now();
    let kept = |f: &Fixture| {
        let item = f.lease_item("stuck").unwrap();
        assert!(!item.contains_key("runs"), "no map: {item:?}");
        item.keys().filter(|k| k.starts_with("run_")).count()
    };
    for _ in 0..4 {
        assert_eq!(
            code(&output(f.tflock("stuck").args(["run", "--", "true"]))),
            0
        );
    }
    assert_eq!(kept(&f), 4, "every slot is taken");
    // The hour items' events are not a list: nothing can be appended, so the
    // four records cannot be copied, nor can a record be written on its own.
    let hours = |f: &Fixture, events: AttributeValue| {
        let mut hour = started - chrono::Duration::hours(1);
        while hour <= chrono::Utc::now() + chrono::Duration::hours(1) {
            let key = format!("tflock-history:stuck@{}", hour.format("%Y-%m-%dT%H"));
            f.dynamo.put(
                &f.table,
                std::collections::HashMap::from([
                    ("LockID".to_string(), AttributeValue::S(key)),
                    ("events".to_string(), events.clone()),
                ]),
            );
            hour += chrono::Duration::hours(1);
        }
    };
    hours(&f, AttributeValue::S("not a list".into()));
    for _ in 0..2 {
        let out = output(f.tflock("stuck").args(["-v", "run", "--", "true"]));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(
            stderr(&out).contains("could not copy run records"),
            "the copy was tried: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("could not record the lock history"),
            "the lost record is reported: {}",
            stderr(&out)
        );
        assert_eq!(f.lease_state("stuck").as_deref(), Some("released"));
        assert_eq!(kept(&f), 4, "the item does not grow");
    }
    // Slots holding what the copy cannot use (not text): copying makes no
    // room, so the record is written on its own (the hours take it now).
    hours(&f, AttributeValue::L(Vec::new()));
    let mut item = f.lease_item("stuck").unwrap();
    for slot in 0..4 {
        item.insert(format!("run_{slot}"), AttributeValue::N("1".into()));
    }
    f.dynamo.put(&f.table, item);
    let out = output(f.tflock("stuck").args(["run", "--", "true"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(f.lease_state("stuck").as_deref(), Some("released"));
    assert_eq!(kept(&f), 4, "the item does not grow");
    let history = f.history("stuck");
    assert_eq!(
        history.len(),
        1,
        "the last run, written on its own: {history:#?}"
    );
    assert_eq!(history[0]["fence"], 7);
}

#[test]
fn an_hour_whose_history_item_is_full_goes_on_in_a_next_part() {
    let f = Fixture::new();
    // This hour's item and the next one's (in case the hour turns during
    // the test) filled as tflock fills them, by appends of valid events,
    // until the item refuses even one record's worth.
    let now = chrono::Utc::now();
    let mut filled = 0;
    for hour in [now, now + chrono::Duration::hours(1)] {
        let key = format!("tflock-history:full@{}", hour.format("%Y-%m-%dT%H"));
        let at = hour.format("%Y-%m-%dT%H:00:00Z");
        // Distinct events (readers take a repeated one once).
        let pad = |n: usize, i: usize| {
            format!(
                r#"{{"kind":"wait","lock_key":"full","at":"{at}","who":"pad{i}@test","reason":"{}"}}"#,
                "x".repeat(n)
            )
        };
        for size in [8_000, 500, 200] {
            while f
                .dynamo
                .append(&f.table, &key, "events", vec![pad(size, filled)])
            {
                filled += 1;
            }
        }
    }
    // The fifth run finds its slot taken: it copies the four records there,
    // which its hour's item cannot take, and its release then carries its own.
    for _ in 0..5 {
        let out = output(f.tflock("full").args(["run", "--", "true"]));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    assert_eq!(copied_events(&f, "full"), [1, 2, 3, 4]);
    assert_eq!(runs_kept(&f, "full"), [5]);
    let parts: Vec<_> = f
        .dynamo
        .scan(&f.table)
        .into_iter()
        .filter(|i| {
            let key = dynamo::s(i, "LockID");
            key.starts_with("tflock-history:full@") && key.ends_with("+1")
        })
        .collect();
    assert!(!parts.is_empty(), "the records went to a second part");
    for part in &parts {
        let kinds: Vec<String> = part["events"]
            .as_l()
            .unwrap()
            .iter()
            .map(|e| serde_json::from_str::<Value>(e.as_s().unwrap()).unwrap()["kind"].to_string())
            .collect();
        assert!(kinds.iter().all(|k| k == "\"run\""), "{kinds:?}");
    }
    // Readers find the parts: every run once, and the hour's earlier events.
    let history = json(&output(
        f.tflock("full").args(["history", "--output", "json"]),
    ));
    let events = history.as_array().unwrap();
    let fences: Vec<u64> = events
        .iter()
        .filter(|e| e["kind"] == "run")
        .map(|e| e["fence"].as_u64().unwrap())
        .collect();
    assert_eq!(fences, [1, 2, 3, 4, 5]);
    assert_eq!(
        events.iter().filter(|e| e["kind"] == "wait").count(),
        filled,
        "the padding, read too"
    );
    let all = json(&output(
        f.tflock("full")
            .args(["history", "--all", "--output", "json"]),
    ));
    let runs = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "run")
        .count();
    assert_eq!(runs, 5, "{all:#}");
}

#[test]
fn the_fire_drill_in_a_terraform_directory_leaves_the_real_terraform_lock_alone() {
    // The operator's own terraform lock on the real state, taken while the
    // drill runs: same user@host, created during the scratch lease. The
    // scratch lock's force-unlock must not judge it (it is not the scratch
    // holder's), let alone remove it.
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let key = f.terraform_lock_id();
    let user = String::from_utf8(
        std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let created = chrono::Utc::now() + chrono::Duration::seconds(1);
    let info = format!(
        r#"{{"ID":"mine","Operation":"OperationTypeApply","Info":"","Who":"{}@{}","Version":"1.11.4","Created":"{}","Path":"{key}"}}"#,
        user.trim(),
        host.trim(),
        created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    f.dynamo.put(
        &f.table,
        HashMap::from([
            ("LockID".to_string(), AttributeValue::S(key.clone())),
            ("Info".to_string(), AttributeValue::S(info)),
        ]),
    );
    let out = output(f.tflock_in(&dir).args(["--lease", "2s", "drill"]));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        f.dynamo.get(&f.table, &key).is_some(),
        "the real terraform lock survives the drill: {}",
        stdout(&out)
    );
}

#[test]
fn the_fire_drill_recovers_a_scratch_lock_and_leaves_the_real_one_alone() {
    let f = Fixture::new();
    let out = output(f.tflock("prod/app").args(["--lease", "2s", "drill"]));
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let said = stdout(&out);
    for step in [
        "took the scratch lease",
        "killed",
        "still held",
        "proved the holder dead",
        "recovered",
    ] {
        assert!(said.contains(step), "{step}: {said}");
    }
    let keys = f.keys();
    assert!(
        keys.iter().all(|k| !k.starts_with("tflock:")),
        "no lease left, real or scratch: {keys:?}"
    );
}

#[test]
fn an_interrupted_fire_drill_leaves_no_scratch_item() {
    // Ctrl-C while the drill's force-unlock observes the dead holder: the
    // drill cleans up before it exits (130), as when it completes.
    let f = Fixture::new();
    // Its output to files, not pipes: a helper left running on the old code
    // would hold a pipe open and hang the test instead of failing it.
    let err = f.path("drill.err");
    let mut drill = f.tflock("prod/app");
    drill
        .args(["--lease", "3s", "drill"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    let drill = drill.spawn().unwrap();
    wait_until(
        "the drill's holder killed, its lease stuck",
        Duration::from_secs(30),
        || {
            f.dynamo.scan(&f.table).iter().any(|i| {
                dynamo::s(i, "LockID").contains(".tflock-drill-")
                    && dynamo::m(i, "lease").is_some_and(|l| dynamo::s(l, "state") == "held")
            })
        },
    );
    signal(&drill, Signal::SIGINT);
    let out = finish(drill, Duration::from_secs(30));
    let said = std::fs::read_to_string(&err).unwrap();
    assert_eq!(code(&out), 130, "{said}");
    assert!(said.contains("the drill was stopped"), "{said}");
    assert!(!said.contains("could not remove"), "{said}");
    let keys = f.keys();
    assert!(
        keys.iter().all(|k| !k.contains("tflock-drill")),
        "no scratch lease or history left: {keys:?}"
    );
}
