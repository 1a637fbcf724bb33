//! The test harness: the real tflock binary, a real moto server, real
//! terraform, and a helper child that records the signals it receives.

#![allow(dead_code)]

pub mod dynamo;
pub mod moto;
pub mod proxy;
pub mod schema;
pub mod standins;

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub use dynamo::{Dynamo, Item};
use moto::Moto;

pub const TFLOCK: &str = env!("CARGO_BIN_EXE_tflock");

/// Waits for `cond` to hold, up to `timeout`; panics naming `what` if not.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

/// A unique, valid table/bucket name for this test.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// One test's world: its own table and bucket on the shared moto, and its own
/// scratch directory.
pub struct Fixture {
    pub moto: &'static Moto,
    pub table: String,
    pub bucket: String,
    pub dir: tempfile::TempDir,
    pub dynamo: Dynamo,
    /// Where tflock sends DynamoDB requests (moto, or a proxy in front of it).
    pub endpoint: String,
}

impl Fixture {
    pub fn new() -> Fixture {
        let moto = moto::shared();
        let table = unique("locks");
        let bucket = unique("state");
        let dynamo = Dynamo::new(moto.endpoint());
        dynamo.create_table(
            &table,
            "LockID",
            aws_sdk_dynamodb::types::ScalarAttributeType::S,
        );
        moto::create_bucket(moto, &bucket);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("terraformrc"), "").unwrap();
        Fixture {
            moto,
            table,
            bucket,
            dir,
            dynamo,
            endpoint: moto.endpoint(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The environment every process of the test gets, and nothing else:
    /// dummy credentials, no instance-metadata lookups, no terraform
    /// checkpoint calls, no user configuration.
    pub fn scrub(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("TF_CLI_CONFIG_FILE", self.path("terraformrc"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        // As CI runs it: in a session of its own, without a controlling
        // terminal (tflock treats a run with one as interactive), whatever
        // terminal `cargo test` was started from.
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid()?;
                Ok(())
            });
        }
    }

    /// tflock locking `key` in this fixture's table (no terraform backend).
    pub fn tflock(&self, key: &str) -> Command {
        let mut cmd = Command::new(TFLOCK);
        self.scrub(&mut cmd);
        cmd.env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("TFLOCK_TABLE", &self.table)
            .env("TFLOCK_LOCK_KEY", key);
        cmd
    }

    /// tflock locking `key`, running as if on another host (a UTS namespace
    /// with its own hostname), so that only observation can tell whether it
    /// is alive. `clock_offset` (e.g. "-10m") runs it under faketime with its
    /// wall clock that far off. libfaketime shifts the monotonic and boot
    /// clocks too, by a constant, so they still advance at the real rate
    /// (FAKETIME_DONT_FAKE_MONOTONIC would keep them as they are, but
    /// libfaketime 0.9.10 then fails every sleep with EINVAL).
    pub fn tflock_elsewhere(&self, key: &str, host: &str, clock_offset: Option<&str>) -> Command {
        let mut cmd = match clock_offset {
            Some(offset) => {
                let mut c = Command::new("faketime");
                c.args(["-f", offset, "unshare"]);
                c
            }
            None => Command::new("unshare"),
        };
        self.scrub(&mut cmd);
        cmd.env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("TFLOCK_TABLE", &self.table)
            .env("TFLOCK_LOCK_KEY", key)
            .args([
                "--uts",
                "sh",
                "-c",
                &format!("hostname {host} && exec \"$@\""),
                "sh",
                TFLOCK,
            ]);
        cmd
    }

    /// tflock locking `key` as user `nobody` on a `/proc` mounted with
    /// `hidepid=invisible` (in a mount namespace of its own), to which the
    /// processes of this test's user (root) are invisible.
    pub fn tflock_as_nobody_under_hidepid(&self, key: &str) -> Command {
        let mut cmd = Command::new("unshare");
        self.scrub(&mut cmd);
        // Its HOME and working directory: where nobody may go.
        cmd.env("HOME", "/")
            .current_dir("/")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("TFLOCK_TABLE", &self.table)
            .env("TFLOCK_LOCK_KEY", key)
            .args([
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                "mount -t proc -o hidepid=invisible proc /proc && exec setpriv \
                 --reuid=nobody --regid=nogroup --clear-groups \"$@\"",
                "sh",
                TFLOCK,
            ]);
        cmd
    }

    /// A proxy to moto, with the backend of terraform directory `dir` (both
    /// endpoints) pointed at it instead of moto.
    pub fn proxied(&self, dir: &Path) -> proxy::Proxy {
        let proxy = proxy::Proxy::start(self.moto.port);
        let init = dir.join(".terraform/terraform.tfstate");
        let text = std::fs::read_to_string(&init).unwrap();
        std::fs::write(
            &init,
            text.replace(&self.moto.endpoint(), &proxy.endpoint()),
        )
        .unwrap();
        proxy
    }

    /// tflock in a terraform directory (the backend names table and key).
    pub fn tflock_in(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(TFLOCK);
        self.scrub(&mut cmd);
        cmd.current_dir(dir);
        cmd
    }

    pub fn lease_item(&self, key: &str) -> Option<Item> {
        self.dynamo.get(&self.table, &format!("tflock:{key}"))
    }

    /// The key of every item in the table.
    pub fn keys(&self) -> Vec<String> {
        self.dynamo
            .scan(&self.table)
            .iter()
            .map(|i| dynamo::s(i, "LockID"))
            .collect()
    }

    /// Every lease item in the table (history items aside).
    pub fn lease_items(&self) -> Vec<Item> {
        self.dynamo
            .scan(&self.table)
            .into_iter()
            .filter(|i| dynamo::s(i, "LockID").starts_with("tflock:"))
            .collect()
    }

    /// The history events recorded for `key`, as JSON, oldest first: those
    /// in its hour items and the runs its lease item holds, each once.
    pub fn history(&self, key: &str) -> Vec<serde_json::Value> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let prefix = format!("tflock-history:{key}@");
        let lease = format!("tflock:{key}");
        let mut seen = std::collections::HashSet::new();
        let mut events: Vec<serde_json::Value> = self
            .dynamo
            .scan(&self.table)
            .into_iter()
            .flat_map(|i| {
                let id = dynamo::s(&i, "LockID");
                match i.get("events") {
                    Some(AttributeValue::L(l)) if id.starts_with(&prefix) => l.clone(),
                    // The lease item's records not yet copied (slots).
                    _ if id == lease => i
                        .iter()
                        .filter(|(name, _)| name.starts_with("run_"))
                        .map(|(_, v)| v.clone())
                        .collect(),
                    _ => Vec::new(),
                }
            })
            .filter_map(|v| v.as_s().ok().cloned())
            .filter(|json| seen.insert(json.clone()))
            .filter_map(|json| serde_json::from_str(&json).ok())
            .collect();
        events.sort_by(|a, b| a["at"].as_str().cmp(&b["at"].as_str()));
        events
    }

    /// The history records of `kind` for `key`, oldest first.
    pub fn records(&self, key: &str, kind: &str) -> Vec<serde_json::Value> {
        self.history(key)
            .into_iter()
            .filter(|e| e["kind"] == kind)
            .collect()
    }

    pub fn lease_state(&self, key: &str) -> Option<String> {
        self.lease_item(key).map(|i| dynamo::s(&i, "state"))
    }

    /// A command line that runs the signal-recording child.
    pub fn sigchild(&self, log: &Path, extra: &[&str]) -> Vec<String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/sigchild.py");
        let mut v = vec![
            moto::python(),
            script.to_string_lossy().into_owned(),
            "--log".into(),
            log.to_string_lossy().into_owned(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    }

    /// A terraform working directory whose S3 backend points at this
    /// fixture's bucket and table, initialised. Each apply runs a
    /// `local-exec` that logs its start and end and sleeps `sleep_seconds`.
    pub fn terraform_dir(&self, name: &str) -> PathBuf {
        self.terraform_dir_locking(name, &format!("dynamodb_table = \"{}\"", self.table))
    }

    /// A terraform directory whose backend locks with an S3 lockfile
    /// (`use_lockfile = true`, terraform 1.10+) and no DynamoDB table.
    pub fn terraform_dir_with_lockfile(&self, name: &str) -> PathBuf {
        self.terraform_dir_locking(name, "use_lockfile = true")
    }

    pub fn terraform_dir_locking(&self, name: &str, locking: &str) -> PathBuf {
        let dir = self.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        let endpoint = self.moto.endpoint();
        let main_tf = format!(
            r#"terraform {{
  backend "s3" {{
    bucket                      = "{bucket}"
    key                         = "app/terraform.tfstate"
    region                      = "us-east-1"
    {locking}
    endpoints                   = {{ s3 = "{endpoint}", dynamodb = "{endpoint}" }}
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
    skip_s3_checksum            = true
  }}
}}

variable "sleep_seconds" {{
  type    = number
  default = 0
}}

variable "log" {{
  type    = string
  default = "/dev/null"
}}

resource "terraform_data" "work" {{
  triggers_replace = [timestamp()]
  provisioner "local-exec" {{
    command = "echo start $(date +%s.%N) >> ${{var.log}}; sleep ${{var.sleep_seconds}}; echo end $(date +%s.%N) >> ${{var.log}}"
  }}
}}
"#,
            bucket = self.bucket,
        );
        std::fs::write(dir.join("main.tf"), main_tf).unwrap();
        let mut init = Command::new("terraform");
        self.scrub(&mut init);
        let out = init
            .current_dir(&dir)
            .args(["init", "-input=false", "-no-color"])
            .output()
            .expect("terraform must be installed to run these tests");
        assert!(
            out.status.success(),
            "terraform init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    }

    /// terraform's lock item ID for `terraform_dir`'s state.
    pub fn terraform_lock_id(&self) -> String {
        format!("{}/app/terraform.tfstate", self.bucket)
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Runs to completion, capturing output.
pub fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("run tflock")
}

/// Starts in the background, output captured.
pub fn spawn(cmd: &mut Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tflock")
}

pub fn args<I, S>(cmd: &mut Command, args: I) -> &mut Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    cmd.args(args)
}

/// The events the signal-recording child wrote: (event, detail, time).
pub fn child_log(path: &Path) -> Vec<(String, String, f64)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut words: Vec<&str> = line.split_whitespace().collect();
            let time: f64 = words.pop()?.parse().ok()?;
            let event = words.first()?.to_string();
            Some((event, words[1..].join(" "), time))
        })
        .collect()
}

pub fn signals_received(path: &Path) -> Vec<String> {
    child_log(path)
        .into_iter()
        .filter(|(e, _, _)| e == "signal")
        .map(|(_, d, _)| d)
        .collect()
}

pub fn child_ready(path: &Path) -> bool {
    child_log(path).iter().any(|(e, _, _)| e == "ready")
}

/// Waits (20 s at most) until the helper child logging to `log` is ready:
/// `what` names it in the failure.
pub fn wait_child_ready(what: &str, log: &Path) {
    wait_until(what, Duration::from_secs(20), || child_ready(log));
}

/// Kills a tflock and everything it started at once, as a lost CI runner
/// dies: all are stopped first, so none can react (no parent-death signal
/// handled, no graceful release), then killed.
pub fn kill_everything(child: &mut Child) {
    use nix::sys::signal::{Signal, kill, killpg};
    use nix::unistd::Pid;
    let pid = child.id() as i32;
    let children: Vec<i32> = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    for &c in &children {
        let _ = killpg(Pid::from_raw(c), Signal::SIGSTOP);
        let _ = kill(Pid::from_raw(c), Signal::SIGSTOP);
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGSTOP);
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    for &c in &children {
        let _ = killpg(Pid::from_raw(c), Signal::SIGKILL);
        let _ = kill(Pid::from_raw(c), Signal::SIGKILL);
    }
    let _ = child.wait();
}

/// Sends `sig` to a process.
pub fn signal(child: &Child, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).expect("kill");
}

/// Waits for a background process with a deadline; kills it if it overruns.
pub fn finish(mut child: Child, timeout: Duration) -> Output {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().expect("collect output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect output");
            panic!(
                "process did not finish within {timeout:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
