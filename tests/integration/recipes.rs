//! docs/ci.md's recipes, run: each recipe's TFLOCK_* settings and commands
//! are read from the page and run in a terraform directory against the
//! emulator. And GitHub Actions' cancellation (SIGINT to the step's entry
//! process, SIGTERM 7.5 s later, then the tree killed), reproduced to show
//! why the recipe `exec`s tflock.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::standins::*;
use crate::support::*;

struct Recipe {
    env: Vec<(String, String)>,
    commands: Vec<String>,
    /// The fenced blocks, whole (for checks of their other settings).
    text: String,
}

/// The recipe under `## {title}` in docs/ci.md.
fn recipe(title: &str) -> Recipe {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md")).unwrap();
    let start = page
        .find(&format!("\n## {title}\n"))
        .unwrap_or_else(|| panic!("no section {title:?} in docs/ci.md"));
    let section = &page[start + 1..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)];
    let mut text = String::new();
    let mut in_block = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
        } else if in_block {
            text.push_str(line);
            text.push('\n');
        }
    }
    let mut env = Vec::new();
    let mut commands = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some((k, v)) = line.split_once(": ")
            && k.starts_with("TFLOCK_")
        {
            env.push((k.to_string(), v.trim_matches('"').to_string()));
            continue;
        }
        let Some(item) = line.strip_prefix("- ") else {
            continue;
        };
        let item = item.strip_prefix("run: ").unwrap_or(item);
        if item == "init" {
            // Atlantis' built-in init step.
            commands.push("terraform init -input=false".to_string());
        } else if ["terraform ", "tflock ", "exec tflock ", "terragrunt "]
            .iter()
            .any(|p| item.starts_with(p))
        {
            commands.push(item.to_string());
        }
    }
    assert!(!commands.is_empty(), "no commands found in {title:?}");
    Recipe {
        env,
        commands,
        text,
    }
}

/// Runs a recipe's commands in order, as the CI system would (a shell per
/// step), with tflock on PATH; returns each step's output.
fn run_recipe(f: &Fixture, dir: &Path, r: &Recipe) -> Vec<std::process::Output> {
    let tflock_dir = Path::new(TFLOCK).parent().unwrap();
    let bin = bin_dir(f);
    r.commands
        .iter()
        .map(|c| {
            let mut cmd = Command::new("bash");
            f.scrub(&mut cmd);
            cmd.current_dir(dir)
                .env(
                    "PATH",
                    format!("{}:{}", tflock_dir.display(), path_with(&bin)),
                )
                .env("PLANFILE", dir.join("plan.tfplan"))
                .env("ATLANTIS_TERRAFORM_VERSION", ATLANTIS_VERSION)
                .args(["-e", "-c", c]);
            for (k, v) in &r.env {
                cmd.env(k, v);
            }
            let out = output(&mut cmd);
            assert_eq!(code(&out), 0, "{c}: {}", stderr(&out));
            out
        })
        .collect()
}

fn applied(outs: &[std::process::Output]) -> bool {
    outs.iter().any(|o| stdout(o).contains("Apply complete!"))
}

fn minutes(text: &str, key: &str) -> u64 {
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key}"));
    // "60" (timeout-minutes), "20m", "1h".
    let v = line.trim_matches('"');
    match v.strip_suffix('h') {
        Some(hours) => hours.parse::<u64>().unwrap() * 60,
        None => v.trim_end_matches('m').parse().unwrap(),
    }
}

#[test]
fn the_github_actions_recipe_runs_and_its_timeouts_fit() {
    let r = recipe("GitHub Actions");
    assert!(
        r.commands
            .iter()
            .any(|c| c.starts_with("exec tflock apply"))
    );
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let outs = run_recipe(&f, &dir, &r);
    assert!(applied(&outs));
    assert_eq!(
        f.lease_state(&f.terraform_lock_id()).as_deref(),
        Some("released")
    );
    // The wait and the run fit inside the job's timeout.
    let job = minutes(&r.text, "timeout-minutes");
    let budget = minutes(&r.text, "TFLOCK_LOCK_TIMEOUT") + minutes(&r.text, "TFLOCK_MAX_DURATION");
    assert!(budget < job, "{budget} min of tflock in a {job} min job");
}

#[test]
fn the_gitlab_recipe_runs_and_its_timeouts_fit() {
    let r = recipe("GitLab CI");
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    assert!(applied(&run_recipe(&f, &dir, &r)));
    let job = minutes(&r.text, "timeout");
    let budget = minutes(&r.text, "TFLOCK_LOCK_TIMEOUT") + minutes(&r.text, "TFLOCK_MAX_DURATION");
    assert!(budget < job, "{budget} min of tflock in a {job} min job");
}

/// The project's terraform version, as Atlantis names it.
const ATLANTIS_VERSION: &str = "1.11.4";

#[test]
fn the_atlantis_workflow_plans_and_applies_the_plan() {
    let r = recipe("Atlantis");
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    // Atlantis' terraform<version> on PATH: terraform, logging its calls.
    executable(
        &bin_dir(&f).join(format!("terraform{ATLANTIS_VERSION}")),
        &format!(
            "#!/bin/sh\necho \"$*\" >> {}\nexec terraform \"$@\"\n",
            f.path("versioned.log").display()
        ),
    );
    let outs = run_recipe(&f, &dir, &r);
    let calls = std::fs::read_to_string(f.path("versioned.log")).unwrap_or_default();
    assert!(
        calls.contains("plan -input=false") && calls.contains("apply -input=false"),
        "tflock ran the project's terraform version: {calls:?}"
    );
    assert!(dir.join("plan.tfplan").exists());
    assert!(applied(&outs));
    let fence = dynamo::s(&f.lease_item(&f.terraform_lock_id()).unwrap(), "fence");
    assert_eq!(fence, "2", "plan and apply each took the lock");
}

#[test]
fn the_terragrunt_recipe_locks_through_terraform_binary() {
    let r = recipe("terragrunt");
    let f = Fixture::new();
    let dir = f.terraform_dir("module");
    // The recipe's terragrunt.hcl line.
    let hcl = r
        .text
        .lines()
        .find(|l| l.starts_with("terraform_binary"))
        .expect("a terraform_binary line");
    std::fs::write(dir.join("terragrunt.hcl"), format!("{hcl}\n")).unwrap();
    fake_terragrunt(&f);
    assert!(applied(&run_recipe(&f, &dir, &r)));
    assert_eq!(
        dynamo::s(&f.lease_item(&f.terraform_lock_id()).unwrap(), "fence"),
        "1"
    );
}

/// A long apply started as a GitHub Actions `run:` step is: the step's
/// script in a file, run by `bash --noprofile --norc -eo pipefail {0}`
/// (the default shell), with no terminal. (`bash -c` would not do: it execs
/// a lone command itself.)
fn github_step(f: &Fixture, dir: &Path, script: &str) -> std::process::Child {
    let tflock_dir = Path::new(TFLOCK).parent().unwrap();
    let file = f.path("step.sh");
    std::fs::write(&file, format!("{script}\n")).unwrap();
    let mut cmd = Command::new("bash");
    f.scrub(&mut cmd);
    spawn(
        cmd.current_dir(dir)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    tflock_dir.display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("TF_VAR_sleep_seconds", "60")
            .env("TF_VAR_log", dir.join("apply.log"))
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&file),
    )
}

#[test]
fn github_cancellation_reaches_terraform_only_through_exec() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let key = f.terraform_lock_id();
    let started = |dir: &Path| {
        std::fs::read_to_string(dir.join("apply.log")).is_ok_and(|l| l.contains("start"))
    };

    // As the recipe has it: SIGINT reaches tflock, terraform stops
    // gracefully, and the lease is released within the 7.5 s before SIGTERM.
    let step = github_step(
        &f,
        &dir,
        "exec tflock apply -auto-approve -input=false -no-color",
    );
    wait_until("the apply to start", Duration::from_secs(60), || {
        started(&dir)
    });
    let cancelled = Instant::now();
    signal(&step, nix::sys::signal::Signal::SIGINT);
    let out = finish(step, Duration::from_secs(30));
    assert!(
        cancelled.elapsed() < Duration::from_millis(7_500),
        "stopped {:?} after SIGINT",
        cancelled.elapsed()
    );
    assert_ne!(code(&out), 0, "the apply was interrupted");
    assert_eq!(f.lease_state(&key).as_deref(), Some("released"));

    // Without exec, bash gets the SIGINT and tflock nothing: the apply goes
    // on, the lease stays held (the runner would kill it all 10 s later).
    std::fs::remove_file(dir.join("apply.log")).unwrap();
    let mut step = github_step(
        &f,
        &dir,
        "tflock apply -auto-approve -input=false -no-color",
    );
    wait_until("the apply to start", Duration::from_secs(60), || {
        started(&dir)
    });
    signal(&step, nix::sys::signal::Signal::SIGINT);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        f.lease_state(&key).as_deref(),
        Some("held"),
        "nothing was stopped"
    );
    kill_everything(&mut step);
}
