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
        "table = \"from-file\"\nlease = \"45s\"\nlock-timeout = \"5m\"\nstrict = true\nregion = \"eu-north-1\"\n",
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
    // The file's region yields to the backend's (it covers many stacks).
    assert_eq!(s["region"]["value"], "us-east-1", "{s}");
    assert!(
        s["region"]["from"].as_str().unwrap().starts_with("backend"),
        "{s}"
    );

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

    // An empty variable (an unset CI variable) is no choice.
    let v = c(
        &[],
        &[
            ("TFLOCK_TABLE", ""),
            ("TFLOCK_LEASE", ""),
            ("TFLOCK_STRICT", ""),
            ("TFLOCK_OUTPUT", ""),
        ],
    );
    assert_eq!(v["settings"]["table"]["value"], "from-file");
    assert_eq!(v["settings"]["lease"]["from"], format!("file ({file})"));
    assert_eq!(v["settings"]["strict"]["value"], "true");
    assert_eq!(v["settings"]["strict"]["from"], format!("file ({file})"));

    // TFLOCK_CONFIG: off, or a file of its own.
    let v = c(&[], &[("TFLOCK_CONFIG", "off")]);
    assert_eq!(v["config_file"], Value::Null);
    assert_eq!(v["settings"]["table"]["value"], f.table.as_str());
    std::fs::write(f.path("ci.toml"), "lease = \"40s\"\n").unwrap();
    let ci = f.path("ci.toml").display().to_string();
    let v = c(&[], &[("TFLOCK_CONFIG", ci.as_str())]);
    assert_eq!(v["config_file"], ci.as_str());
    assert_eq!(v["settings"]["lease"]["value"], "40s");
    // Relative: from where tflock started, whatever -C says.
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let v = c(&["-C", "sub"], &[("TFLOCK_CONFIG", "../ci.toml")]);
    assert_eq!(v["config_file"], ci.as_str());

    // A bad value says where it was set.
    std::fs::write(f.path("ci.toml"), "lease = \"forever\"\n").unwrap();
    let out = output(
        f.tflock_in(&dir)
            .env("TFLOCK_CONFIG", &ci)
            .args(["run", "--", "true"]),
    );
    assert_eq!(code(&out), 78, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--lease") && stderr(&out).contains(&format!("(from {ci})")),
        "{}",
        stderr(&out)
    );

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
        err.contains(".tflock.toml:1:1: ") && err.contains("tabel"),
        "{err}"
    );

    // What takes no lock still runs, with a warning.
    let out = output(
        f.tflock("filekey")
            .current_dir(&dir)
            .args(["fmt", "-check"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("tflock: warning: ")
            && stderr(&out).contains("ignored: this command takes no lock"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn terraforms_chdir_finds_the_file_of_the_directory_it_names() {
    let f = Fixture::new();
    let dir = f.terraform_dir("envs/prod");
    std::fs::write(dir.join(".tflock.toml"), "lease = \"44s\"\n").unwrap();
    let out = output(f.tflock_in(&f.path("")).args([
        "-v",
        "-chdir=envs/prod",
        "apply",
        "-auto-approve",
        "-no-color",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let item = f.lease_item(&f.terraform_lock_id()).expect("the lease");
    assert_eq!(dynamo::holder_field(&item, "lease_ms"), "44000");
}

#[test]
fn terraforms_chdir_to_a_sibling_does_not_take_the_file_of_where_tflock_started() {
    // From app, `-chdir=../shared`: shared's parents are searched, not
    // app's (a file there would put shared's lease in app's table).
    let f = Fixture::new();
    let dir = f.terraform_dir("repo/shared");
    let app = f.path("repo/app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join(".tflock.toml"), "lease = \"55s\"\n").unwrap();
    let out =
        output(
            f.tflock_in(&app)
                .args(["-chdir=../shared", "apply", "-auto-approve", "-no-color"]),
        );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let item = f.lease_item(&f.terraform_lock_id()).expect("the lease");
    assert_eq!(dynamo::holder_field(&item, "lease_ms"), "30000", "{dir:?}");
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
fn version_shows_terraforms_first_for_wrappers_that_parse_it() {
    let f = Fixture::new();
    let version = |cmd: &mut std::process::Command| {
        // Each must answer promptly, whatever its "terraform" does.
        let out = finish(spawn(cmd), std::time::Duration::from_secs(20));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let text = stdout(&out);
        let last = text.lines().last().unwrap_or_default().to_string();
        assert!(last.starts_with("tflock "), "tflock's line last: {text}");
        text
    };
    let tflock = |dir: &Path| {
        let mut cmd = std::process::Command::new(TFLOCK);
        f.scrub(&mut cmd);
        cmd.current_dir(dir).arg("--version");
        cmd
    };
    let here = f.path("");
    // terraform's lines first: terragrunt reads the first line.
    let text = version(&mut tflock(&here));
    assert!(text.starts_with("Terraform v"), "{text}");
    let out = output(std::process::Command::new(TFLOCK).arg("-V"));
    assert!(!stdout(&out).contains("Terraform"), "-V is tflock's alone");

    // No terraform: tflock's version all the same.
    let text = version(tflock(&here).args(["--terraform-bin", "/nonexistent/terraform"]));
    assert_eq!(text.lines().count(), 1, "{text}");

    // The config file's terraform-bin is the one asked.
    let bin = bin_dir(&f);
    executable(&bin.join("tofu"), "#!/bin/sh\necho 'OpenTofu v1.8.0'\n");
    let project = f.path("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join(".tflock.toml"), "terraform-bin = \"tofu\"\n").unwrap();
    let text = version(tflock(&project).env("PATH", path_with(&bin)));
    assert!(text.starts_with("OpenTofu v1.8.0\n"), "{text}");

    // A "terraform" that hangs, or complains, or is tflock itself.
    executable(
        &bin.join("hangs"),
        "#!/bin/sh\necho oops >&2\nexec sleep 60\n",
    );
    let text =
        version(tflock(&here).args(["--terraform-bin", bin.join("hangs").to_str().unwrap()]));
    assert_eq!(text.lines().count(), 1, "{text}");
    std::os::unix::fs::symlink(TFLOCK, bin.join("terraform")).unwrap();
    let text = version(tflock(&here).env("PATH", path_with(&bin)));
    assert_eq!(text.lines().count(), 1, "{text}");
    // A wrapper named terraform that execs tflock.
    std::fs::remove_file(bin.join("terraform")).unwrap();
    executable(
        &bin.join("terraform"),
        &format!("#!/bin/sh\nexec {TFLOCK} \"$@\"\n"),
    );
    let text = version(tflock(&here).env("PATH", path_with(&bin)));
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[test]
fn a_tflock_run_by_terraform_with_other_arguments_is_no_loop() {
    // A local-exec provisioner of a terraform that tflock exec'd (`tflock
    // apply -lock=false`) running `tflock ... output -json`: its parent is
    // that terraform, but it is no wrapper calling tflock back.
    let f = Fixture::new();
    let bin = bin_dir(&f);
    executable(
        &bin.join("terraform"),
        &format!("#!/bin/sh\nsh -c 'exec {TFLOCK} --terraform-bin echo output -json'\n"),
    );
    let out = output(
        f.tflock("loop")
            .env("PATH", path_with(&bin))
            .args(["fmt", "-check"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "output -json");
}

#[test]
fn a_terraform_that_is_tflock_itself_is_an_error_not_a_loop() {
    let f = Fixture::new();
    let bin = bin_dir(&f);
    std::os::unix::fs::symlink(TFLOCK, bin.join("terraform")).unwrap();
    executable(
        &bin.join("wrapper"),
        &format!("#!/bin/sh\nexec {TFLOCK} \"$@\"\n"),
    );
    // Ones that run it as their child, without exec: with the same
    // arguments, with one more each time, through another program. Should
    // the loop come back, each ends after twenty rounds (exit 99) rather
    // than fill the machine with processes.
    let rounds = "[ \"${ROUNDS:-0}\" -ge 20 ] && exit 99\nexport ROUNDS=$((${ROUNDS:-0} + 1))\n";
    for (name, runs) in [
        ("forks", format!("{TFLOCK} \"$@\"")),
        ("adds", format!("{TFLOCK} \"$@\" -no-color")),
        ("times", format!("timeout 60 {TFLOCK} \"$@\"")),
    ] {
        executable(&bin.join(name), &format!("#!/bin/sh\n{rounds}{runs}\n"));
    }
    for terraform in ["terraform", "wrapper", "forks", "adds", "times"] {
        let mut cmd = f.tflock("loop");
        cmd.env("PATH", path_with(&bin))
            .env("TFLOCK_TERRAFORM", terraform)
            .args(["fmt", "-check"]);
        let out = finish(spawn(&mut cmd), std::time::Duration::from_secs(20));
        assert_eq!(code(&out), 78, "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("`{terraform}` runs tflock itself")),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn run_with_terraforms_chdir_locks_that_directorys_state() {
    // `tflock run -- terraform -chdir=tf plan` from a directory without a
    // backend: the lock is tf's, as with `tflock -chdir=tf plan`.
    let f = Fixture::new();
    f.terraform_dir("tf");
    let bin = bin_dir(&f);
    let terraform = bin.join("terraform");
    executable(&terraform, "#!/bin/sh\necho \"$TFLOCK_LOCK_KEY\" > ran\n");
    let out = output(f.tflock_in(&f.path("")).args([
        "run",
        "--",
        terraform.to_str().unwrap(),
        "-chdir=tf",
        "plan",
    ]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let key = std::fs::read_to_string(f.path("ran")).unwrap();
    assert_eq!(key.trim(), f.terraform_lock_id());
    assert_eq!(
        f.lease_state(&f.terraform_lock_id()).as_deref(),
        Some("released")
    );
}

#[test]
fn a_backends_web_identity_role_that_tflock_does_not_assume_is_said() {
    // tflock does not assume `assume_role_with_web_identity`: its lease is
    // written with the process's own credentials, which may be of another
    // account. A run and `doctor` say so (the exception, an environment
    // that points the SDK at the same role, is a unit test in aws.rs).
    let f = Fixture::new();
    let dir = f.path("web");
    std::fs::create_dir_all(dir.join(".terraform")).unwrap();
    let role = "arn:aws:iam::123456789012:role/ci";
    let backend = serde_json::json!({
        "version": 3,
        "backend": {"type": "s3", "config": {
            "bucket": f.bucket, "key": "web/terraform.tfstate", "region": "us-east-1",
            "dynamodb_table": f.table, "use_path_style": true,
            "endpoints": {"s3": f.moto.endpoint(), "dynamodb": f.moto.endpoint()},
            "assume_role_with_web_identity": {"role_arn": role, "web_identity_token_file": "/run/token"}
        }}
    });
    std::fs::write(
        dir.join(".terraform/terraform.tfstate"),
        backend.to_string(),
    )
    .unwrap();
    let out = output(f.tflock_in(&dir).args(["run", "--", "true"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("assume_role_with_web_identity") && stderr(&out).contains(role),
        "{}",
        stderr(&out)
    );
    let out = output(f.tflock_in(&dir).args(["doctor", "--output", "json"]));
    assert!(
        stdout(&out).contains("assume_role_with_web_identity"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_backends_assume_role_is_used_for_the_lease() {
    // A backend that assumes a role (another account): the lease must be
    // written with that role, as terraform's own lock is, never with the
    // caller's own credentials. STS goes through a proxy that can refuse.
    let f = Fixture::new();
    let sts = crate::support::proxy::Proxy::start(f.moto.port);
    let dir = f.path("assumed");
    std::fs::create_dir_all(dir.join(".terraform")).unwrap();
    let backend = serde_json::json!({
        "version": 3,
        "backend": {"type": "s3", "config": {
            "bucket": f.bucket, "key": "assumed/terraform.tfstate", "region": "us-east-1",
            "dynamodb_table": f.table, "use_path_style": true,
            "endpoints": {"s3": f.moto.endpoint(), "dynamodb": f.moto.endpoint(), "sts": sts.endpoint()},
            "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/terraform", "session_name": "ci"}
        }}
    });
    std::fs::write(
        dir.join(".terraform/terraform.tfstate"),
        backend.to_string(),
    )
    .unwrap();

    sts.set(crate::support::proxy::Mode::Refuse);
    let out = output(f.tflock_in(&dir).args(["run", "--", "true"]));
    assert_eq!(code(&out), 69, "no role, no lease: {}", stderr(&out));
    assert!(sts.failed_connections() > 0, "STS was asked for the role");
    assert_eq!(
        f.lease_state(&format!("{}/assumed/terraform.tfstate", f.bucket)),
        None
    );

    sts.set(crate::support::proxy::Mode::Forward);
    let out = output(f.tflock_in(&dir).args(["run", "--", "true"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        f.lease_state(&format!("{}/assumed/terraform.tfstate", f.bucket))
            .as_deref(),
        Some("released")
    );
}

#[test]
fn terraforms_chdir_reaches_the_directorys_config_file_and_tflocks_state_commands() {
    let f = Fixture::new();
    let dir = f.terraform_dir("infra");
    let fake = bin_dir(&f).join("fake-terraform");
    executable(&fake, "#!/bin/sh\necho \"$@\" > \"$MARK\"\n");
    std::fs::write(
        dir.join(".tflock.toml"),
        format!("terraform-bin = \"{}\"\n", fake.display()),
    )
    .unwrap();
    let mark = f.path("mark");
    let here = f.path("");

    // A command without the lock runs infra's terraform-bin, as apply would.
    let out = output(
        f.tflock_in(&here)
            .env("MARK", &mark)
            .args(["-chdir=infra", "version"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&mark).unwrap().trim(),
        "-chdir=infra version"
    );
    std::fs::remove_file(&mark).unwrap();

    // tflock's own `state ack` for infra's state, not terraform's.
    let out = output(
        f.tflock_in(&here)
            .env("MARK", &mark)
            .args(["-chdir=infra", "state", "ack"]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "nothing to acknowledge: {}",
            f.terraform_lock_id()
        )),
        "{}",
        stdout(&out)
    );
    assert!(!mark.exists(), "terraform was not run");

    // terraform's unguarded force-unlock is not reached past -chdir.
    let out = output(f.tflock_in(&here).env("MARK", &mark).args([
        "-chdir=infra",
        "force-unlock",
        "-force",
        "0000",
    ]));
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("force-unlock --verify"),
        "{}",
        stderr(&out)
    );
    assert!(!mark.exists(), "terraform was not run");
}

#[test]
fn the_backends_profile_files_are_read_for_the_lease() {
    // A backend whose profile lives in files it names (not ~/.aws): the
    // lease is written with that profile's credentials, as terraform's lock
    // is. Without the files the profile does not exist: no credentials, no
    // lease (never the caller's own).
    let f = Fixture::new();
    let dir = f.path("profiled");
    std::fs::create_dir_all(dir.join(".terraform")).unwrap();
    let credentials = f.path("team-credentials");
    std::fs::write(
        &credentials,
        "[team]\naws_access_key_id = AKIDTEAM\naws_secret_access_key = team-secret\n",
    )
    .unwrap();
    let config = f.path("team-config");
    std::fs::write(&config, "[profile team]\nregion = us-east-1\n").unwrap();
    // The region is in the backend, or (with the files) in the profile.
    let backend = |files: bool| {
        let mut cfg = serde_json::json!({
            "bucket": f.bucket, "key": "profiled/terraform.tfstate", "profile": "team",
            "dynamodb_table": f.table, "use_path_style": true,
            "endpoints": {"s3": f.moto.endpoint(), "dynamodb": f.moto.endpoint()}
        });
        if files {
            cfg["shared_credentials_files"] = serde_json::json!([credentials]);
            cfg["shared_config_files"] = serde_json::json!([config]);
        } else {
            cfg["region"] = serde_json::json!("us-east-1");
        }
        let state = serde_json::json!({"version": 3, "backend": {"type": "s3", "config": cfg}});
        std::fs::write(dir.join(".terraform/terraform.tfstate"), state.to_string()).unwrap();
    };
    let tflock = || {
        let mut cmd = f.tflock_in(&dir);
        // Only the files can provide credentials and the region.
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_REGION");
        cmd
    };
    let lock = format!("{}/profiled/terraform.tfstate", f.bucket);

    backend(false);
    let out = output(tflock().args(["run", "--", "true"]));
    assert_eq!(code(&out), 69, "no such profile: {}", stderr(&out));
    assert!(stderr(&out).contains("team"), "{}", stderr(&out));
    assert_eq!(f.lease_state(&lock), None);

    backend(true);
    let out = output(tflock().args(["-v", "run", "--", "true"]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(f.lease_state(&lock).as_deref(), Some("released"));
}
