//! tflock among the tools around it: `.tflock.toml` and `tflock config`,
//! OpenTofu (`--terraform-bin tofu`) and terragrunt (`terraform_binary =
//! "tflock"`), with stand-ins for the programs not installed here.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::standins::*;
use crate::support::*;

fn config(f: &Fixture, dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Value {
    let mut cmd = f.tflock("cfg");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = output(
        cmd.current_dir(dir)
            .env_remove("TFLOCK_TABLE")
            .args(extra)
            .args(["config", "--output", "json"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn flags_beat_variables_beat_the_file_beats_the_backend() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    // The file sits in a parent of the working directory.
    std::fs::write(
        f.path(".tflock.toml"),
        "table = \"from-file\"\nlease = \"45s\"\nlock-timeout = \"5m\"\nstrict = true\n",
    )
    .unwrap();
    let file = f.path(".tflock.toml").display().to_string();
    let c = |extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = f.tflock_in(&dir);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = output(cmd.args(extra).args(["config", "--output", "json"]));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()
    };

    let v = c(&[], &[]);
    assert_eq!(v["config_file"], file.as_str());
    let s = &v["settings"];
    assert_eq!(
        s["table"]["value"], "from-file",
        "the file beats the backend"
    );
    assert_eq!(s["table"]["from"], format!("file ({file})"));
    assert_eq!(s["lock-key"]["value"], f.terraform_lock_id());
    assert!(
        s["lock-key"]["from"]
            .as_str()
            .unwrap()
            .starts_with("backend")
    );
    assert_eq!(s["lease"]["value"], "45s");
    assert_eq!(s["heartbeat"]["value"], "15s");
    assert_eq!(s["lock-timeout"]["value"], "5m");
    assert_eq!(s["strict"]["value"], "true");
    assert_eq!(s["backup"]["from"], "default");

    let v = c(&[], &[("TFLOCK_LEASE", "50s"), ("TFLOCK_STRICT", "false")]);
    assert_eq!(v["settings"]["lease"]["value"], "50s");
    assert_eq!(v["settings"]["lease"]["from"], "environment (TFLOCK_LEASE)");
    assert_eq!(
        v["settings"]["strict"]["value"], "false",
        "a variable's false wins too"
    );

    let v = c(&["--lease", "55s"], &[("TFLOCK_LEASE", "50s")]);
    assert_eq!(v["settings"]["lease"]["value"], "55s");
    assert_eq!(v["settings"]["lease"]["from"], "flag");

    // Without the file, the backend's table.
    std::fs::remove_file(f.path(".tflock.toml")).unwrap();
    let v = c(&[], &[]);
    assert_eq!(v["config_file"], Value::Null);
    assert_eq!(v["settings"]["table"]["value"], f.table.as_str());
}

#[test]
fn a_run_uses_the_files_table_and_a_broken_file_stops_everything() {
    let f = Fixture::new();
    let other = unique("filetable");
    f.dynamo.create_table(
        &other,
        "LockID",
        aws_sdk_dynamodb::types::ScalarAttributeType::S,
    );
    let dir = f.path("work");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".tflock.toml"),
        format!("[tflock]\ntable = \"{other}\"\nlease = \"5s\"\n"),
    )
    .unwrap();
    let v = config(&f, &dir, &[], &[]);
    assert_eq!(v["settings"]["table"]["value"], other.as_str());
    let out = output(
        f.tflock("filekey")
            .current_dir(&dir)
            .env_remove("TFLOCK_TABLE")
            .args(["run", "--", "true"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let item = f
        .dynamo
        .get(&other, "tflock:filekey")
        .expect("lease in the file's table");
    assert_eq!(dynamo::holder_field(&item, "lease_ms"), "5000");
    assert!(f.lease_item("filekey").is_none());

    std::fs::write(dir.join(".tflock.toml"), "tabel = \"x\"\n").unwrap();
    let out = output(
        f.tflock("filekey")
            .current_dir(&dir)
            .args(["run", "--", "true"]),
    );
    assert_eq!(code(&out), 78);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(".tflock.toml") && err.contains("tabel"),
        "{err}"
    );
}

/// A stand-in for OpenTofu: the same CLI and backend (it is a fork of
/// terraform), so it runs terraform, and logs that it was the one called.
fn fake_tofu(f: &Fixture) -> PathBuf {
    let bin = bin_dir(f);
    executable(
        &bin.join("tofu"),
        &format!(
            "#!/bin/sh\necho \"tofu $*\" >> {}\nexec terraform \"$@\"\n",
            f.path("tofu.log").display()
        ),
    );
    bin
}

#[test]
fn opentofu_runs_in_terraforms_place() {
    let f = Fixture::new();
    let dir = f.terraform_dir("tf");
    let bin = fake_tofu(&f);
    let out = output(f.tflock_in(&dir).env("PATH", path_with(&bin)).args([
        "--terraform-bin",
        "tofu",
        "apply",
        "-auto-approve",
        "-no-color",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("Apply complete!"), "{}", stdout(&out));
    let item = f.lease_item(&f.terraform_lock_id()).expect("a lease");
    assert!(
        dynamo::holder_field(&item, "command").starts_with("tofu apply"),
        "{item:?}"
    );
    // The same through .tflock.toml.
    std::fs::write(dir.join(".tflock.toml"), "terraform-bin = \"tofu\"\n").unwrap();
    let out = output(f.tflock_in(&dir).env("PATH", path_with(&bin)).args([
        "apply",
        "-auto-approve",
        "-no-color",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let log = std::fs::read_to_string(f.path("tofu.log")).unwrap();
    assert_eq!(
        log.lines().filter(|l| l.starts_with("tofu apply")).count(),
        2,
        "{log}"
    );
}

#[test]
fn terragrunt_with_tflock_as_its_terraform_binary() {
    let f = Fixture::new();
    let dir = f.terraform_dir("module");
    std::fs::write(
        dir.join("terragrunt.hcl"),
        format!("terraform_binary = \"{TFLOCK}\"\n"),
    )
    .unwrap();
    let bin = fake_terragrunt(&f);
    let key = f.terraform_lock_id();

    // terragrunt → tflock → terraform: locked, applied, released.
    let mut terragrunt = std::process::Command::new("terragrunt");
    f.scrub(&mut terragrunt);
    let out = output(
        terragrunt
            .current_dir(&dir)
            .env("PATH", path_with(&bin))
            .args(["apply", "-auto-approve", "-no-color"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let fence = |f: &Fixture| dynamo::s(&f.lease_item(&key).unwrap(), "fence");
    assert_eq!(fence(&f), "1", "the apply took the lock");
    assert!(stdout(&out).contains("Apply complete!"), "{}", stdout(&out));
    assert_eq!(f.lease_state(&key).as_deref(), Some("released"));

    // tflock run -- terragrunt …: the inner tflock holds nothing of its own
    // (same lock, already held by its parent) and does not wait on itself.
    let out = output(
        f.tflock_in(&dir)
            .env("PATH", path_with(&bin))
            .args(["--lock-timeout", "0s", "run", "--", "terragrunt", "apply"])
            .args(["-auto-approve", "-no-color"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("Apply complete!"), "{}", stdout(&out));
    assert_eq!(fence(&f), "2", "taken once, by the outer tflock");
}

#[test]
fn version_shows_terraforms_too_for_wrappers_that_parse_it() {
    let out = output(std::process::Command::new(TFLOCK).arg("--version"));
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(text.starts_with("tflock "), "{text}");
    assert!(text.contains("\nTerraform v"), "{text}");
    let out = output(std::process::Command::new(TFLOCK).arg("-V"));
    assert!(!stdout(&out).contains("Terraform"), "-V is tflock's alone");
    // No terraform: tflock's version all the same.
    let out = output(std::process::Command::new(TFLOCK).args([
        "--terraform-bin",
        "/nonexistent/terraform",
        "--version",
    ]));
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("tflock "));
}
