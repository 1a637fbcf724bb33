//! Effective settings: command-line flags win over environment variables,
//! which win over `.tflock.toml`, which wins over terraform's backend
//! configuration (DESIGN §3). clap already merged flags with the `TFLOCK_*`
//! variables and `config_file` filled in the file's values; this adds the
//! backend and the standard AWS variables, and validates the lease timing.

use std::path::Path;
use std::time::Duration;

use crate::backend::{self, Backend, S3Backend};
use crate::cli::GlobalArgs;
use crate::config_file::Origin;
use crate::duration;
use crate::error::{Error, Result};

pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// Below this, one slow request would cost the lease; nobody needs it shorter.
pub const MIN_LEASE: Duration = Duration::from_secs(1);
pub const MIN_HEARTBEAT: Duration = Duration::from_millis(100);

/// Reads an environment variable, treating empty as unset (as shells and CI
/// systems often export `VAR=` to mean "nothing").
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Set by `tflock drill` for its helper processes (see `Target::resolve`).
pub const DRILL_SCRATCH: &str = "TFLOCK_DRILL_SCRATCH";

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Which lock, in which table, reached how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub table: String,
    pub lock_key: String,
    /// terraform's own lock item for the same state, when the backend is known:
    /// (table, LockID).
    pub terraform_lock: Option<(String, String)>,
    /// The state object, when the backend is known: (bucket, key).
    pub state: Option<(String, String)>,
    /// terraform's S3 lockfile (`use_lockfile = true`): (bucket, key).
    pub lockfile: Option<(String, String)>,
    pub aws: AwsSettings,
}

/// How to reach DynamoDB. `None` leaves the value to the AWS SDK's own chain
/// (environment variables, profile files), which already gives the standard
/// `AWS_*` variables precedence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub dynamodb_endpoint: Option<String>,
    pub s3_endpoint: Option<String>,
    /// The backend's `use_path_style` (or the older `force_path_style`).
    pub s3_path_style: bool,
    pub profile: Option<String>,
    /// The backend's own credentials, when it names them.
    pub credentials: crate::backend::Credentials,
}

/// Lease timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub lease: Duration,
    pub heartbeat: Duration,
    pub lock_timeout: Duration,
    pub max_duration: Option<Duration>,
    pub history_retention: Duration,
    pub takeover_stale: bool,
}

/// Parses an optional duration flag; errors name the flag (exit 78).
pub fn duration_flag(flag: &str, v: &Option<String>) -> Result<Option<Duration>> {
    match v.as_deref().filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => duration::parse(s)
            .map(Some)
            .map_err(|e| Error::config(format!("--{flag}: {e}"))),
    }
}

impl Timing {
    /// `child_lock_timeout` is terraform's `-lock-timeout` found among the
    /// child's arguments: honoured as tflock's default too.
    pub fn resolve(global: &GlobalArgs, child_lock_timeout: Option<Duration>) -> Result<Timing> {
        // A bad value names where it was set when that was not a flag.
        let parse = |flag: &str, v: &Option<String>| {
            duration_flag(flag, v).map_err(|e| match global.origins.get(flag) {
                Some(Origin::Env(name)) => Error::config(format!("{e} (from {name})")),
                Some(Origin::File(path)) => Error::config(format!("{e} (from {})", path.display())),
                _ => e,
            })
        };
        let lease = parse("lease", &global.lease)?.unwrap_or(DEFAULT_LEASE);
        if lease < MIN_LEASE {
            return Err(Error::config(format!(
                "--lease {} is too short: at least {}",
                duration::format(lease),
                duration::format(MIN_LEASE)
            )));
        }
        let heartbeat = parse("heartbeat", &global.heartbeat)?.unwrap_or(lease / 3);
        // DESIGN §4: a heartbeat every lease/3 or less, so that a holder
        // rides through a failed renewal or two before it must fence.
        if heartbeat > lease / 3 {
            return Err(Error::config(format!(
                "--heartbeat {} is more than a third of the lease ({}): a single failed renewal would end the run; use at most {}",
                duration::format(heartbeat),
                duration::format(lease),
                duration::format(lease / 3)
            )));
        }
        if heartbeat < MIN_HEARTBEAT {
            return Err(Error::config(format!(
                "--heartbeat {} is too short: at least {}",
                duration::format(heartbeat),
                duration::format(MIN_HEARTBEAT)
            )));
        }
        // terraform's `-lock-timeout` on this command line outranks a
        // default from the environment or the config file; only tflock's
        // own `--lock-timeout` flag outranks it.
        let ours = parse("lock-timeout", &global.lock_timeout)?;
        let from_flag = !matches!(
            global.origins.get("lock-timeout"),
            Some(Origin::Env(_) | Origin::File(_))
        );
        let lock_timeout = match (ours, child_lock_timeout) {
            (Some(t), _) if from_flag => t,
            (_, Some(child)) => child,
            (ours, None) => ours.unwrap_or(Duration::ZERO),
        };
        let max_duration = parse("max-duration", &global.max_duration)?.filter(|d| !d.is_zero());
        let history_retention = parse("history-retention", &global.history_retention)?
            .unwrap_or(crate::history::DEFAULT_RETENTION);
        Ok(Timing {
            lease,
            heartbeat,
            lock_timeout,
            max_duration,
            history_retention,
            takeover_stale: global.takeover_stale,
        })
    }
}

impl Target {
    pub fn resolve(global: &GlobalArgs, workdir: &Path, env: EnvLookup) -> Result<Target> {
        let backend = read_backend(workdir, env)?;
        let data_dir = backend::data_dir(workdir, env("TF_DATA_DIR").as_deref());
        let flag = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let table_flag = flag(&global.table);
        let key_flag = flag(&global.lock_key);

        let s3 = match &backend {
            Backend::S3(s3) => Some(&**s3),
            Backend::Other { kind } if table_flag.is_none() || key_flag.is_none() => {
                return Err(Error::config(format!(
                    "the backend of {} is \"{kind}\": tflock derives its lock from s3 backends only; \
                     pass --table and --lock-key to lock it anyway",
                    workdir.display()
                )));
            }
            Backend::Other { .. } => None,
            Backend::None if table_flag.is_none() || key_flag.is_none() => {
                // Say which of the usual causes it is.
                let why = if !workdir.is_dir() {
                    "no such directory".to_string()
                } else if let Some(set) = env("TF_DATA_DIR") {
                    format!(
                        "no {}/terraform.tfstate, TF_DATA_DIR being {set}: has `terraform init` run \
                         with it?",
                        data_dir.display()
                    )
                } else {
                    "no .terraform/terraform.tfstate: has `terraform init` run?".to_string()
                };
                return Err(Error::config(format!(
                    "no terraform backend in {} ({why}); pass --table and --lock-key to lock \
                     without one",
                    workdir.display(),
                )));
            }
            Backend::None => None,
        };

        let table = match (table_flag, s3.and_then(|b| b.dynamodb_table.clone())) {
            (Some(t), _) | (None, Some(t)) => t,
            (None, None) => {
                let how = if s3.is_some_and(|b| b.use_lockfile) {
                    "it locks with an S3 lockfile (use_lockfile)"
                } else {
                    "it has no dynamodb_table"
                };
                return Err(Error::config(format!(
                    "the s3 backend names no DynamoDB table ({how}); tflock keeps its lease in DynamoDB: \
                     pass --table (or TFLOCK_TABLE) with a table whose key is LockID (String); \
                     `tflock setup --table NAME` creates one"
                )));
            }
        };
        let lock_key = match (key_flag, s3) {
            (Some(k), _) => k,
            (None, Some(b)) => b.terraform_lock_id(),
            (None, None) => unreachable!("checked above: no backend requires --lock-key"),
        };
        // The drill's helpers lock a scratch key beside the real one: they
        // take the backend's connection settings, never its terraform lock,
        // lockfile or state (those belong to the real lock).
        let s3_lock = s3.filter(|_| env(DRILL_SCRATCH).is_none());
        let terraform_lock =
            s3_lock.and_then(|b| b.dynamodb_table.clone().map(|t| (t, b.terraform_lock_id())));

        let aws = aws_settings(global, s3);
        Ok(Target {
            table,
            lock_key,
            terraform_lock,
            state: s3_lock.map(|b| (b.bucket.clone(), b.state_path.clone())),
            lockfile: s3_lock
                .filter(|b| b.use_lockfile)
                .map(|b| (b.bucket.clone(), format!("{}.tflock", b.state_path))),
            aws,
        })
    }
}

/// The table alone, for commands about the whole table (`status --all`,
/// `history --all`, `setup`): `--table`, else the backend's; how to reach
/// it; and the s3 backend, when there is one.
pub fn resolve_table(
    global: &GlobalArgs,
    workdir: &Path,
    env: EnvLookup,
) -> Result<(String, AwsSettings, Option<S3Backend>)> {
    let backend = read_backend(workdir, env)?;
    let s3 = match &backend {
        Backend::S3(b) => Some(&**b),
        _ => None,
    };
    let table = global
        .table
        .clone()
        .filter(|t| !t.is_empty())
        .or_else(|| s3.and_then(|b| b.dynamodb_table.clone()))
        .ok_or_else(|| {
            let why = match &backend {
                Backend::S3(_) => "the s3 backend here names no dynamodb_table".to_string(),
                Backend::Other { kind } => format!("the backend here is \"{kind}\", not s3"),
                Backend::None => "there is no terraform backend here".to_string(),
            };
            Error::config(format!(
                "no lock table ({why}): pass --table NAME (or set TFLOCK_TABLE)"
            ))
        })?;
    Ok((table, aws_settings(global, s3), s3.cloned()))
}

/// The backend of `workdir` (honouring TF_DATA_DIR and TF_WORKSPACE).
pub fn read_backend(workdir: &Path, env: EnvLookup) -> Result<Backend> {
    let data_dir = backend::data_dir(workdir, env("TF_DATA_DIR").as_deref());
    backend::read(&data_dir, env("TF_WORKSPACE").as_deref())
}

/// How to reach the table and the bucket. Resolved as terraform resolves it
/// for its own lock: the backend configuration first, the standard AWS
/// variables only where it is silent (the SDK reads those itself), so that a
/// shell's AWS_REGION can never put the lease in another region's table than
/// terraform's lock. `--region` wins; a `region` in
/// `.tflock.toml`, which applies to a whole tree of configurations, only
/// where the backend names none (else a stack in another region would put
/// its lease away from terraform's lock, and away from runs that do not
/// read the file).
pub fn aws_settings(global: &GlobalArgs, s3: Option<&S3Backend>) -> AwsSettings {
    let given = global.region.clone().filter(|r| !r.is_empty());
    let backend = s3.and_then(|b| b.region.clone());
    let region = match global.origins.get("region") {
        Some(Origin::File(_)) => backend.or(given),
        _ => given.or(backend),
    };
    AwsSettings {
        region,
        dynamodb_endpoint: s3.and_then(|b| b.dynamodb_endpoint.clone()),
        s3_endpoint: s3.and_then(|b| b.s3_endpoint.clone()),
        s3_path_style: s3.is_some_and(|b| b.use_path_style),
        profile: s3.and_then(|b| b.profile.clone()),
        credentials: s3.map(|b| b.credentials.clone()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn global() -> GlobalArgs {
        GlobalArgs::default()
    }

    fn s3_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".terraform")).unwrap();
        std::fs::write(
            dir.path().join(".terraform/terraform.tfstate"),
            r#"{"backend":{"type":"s3","config":{"bucket":"b","key":"k.tfstate","region":"eu-west-1",
               "dynamodb_table":"locks","endpoints":{"dynamodb":"http://127.0.0.1:1"},"profile":"dev"}}}"#,
        )
        .unwrap();
        dir
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn backend_supplies_everything_by_default() {
        let dir = s3_dir();
        let t = Target::resolve(&global(), dir.path(), &env_of(&[])).unwrap();
        assert_eq!(t.table, "locks");
        assert_eq!(t.lock_key, "b/k.tfstate");
        assert_eq!(
            t.terraform_lock,
            Some(("locks".into(), "b/k.tfstate".into()))
        );
        assert_eq!(t.aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            t.aws.dynamodb_endpoint.as_deref(),
            Some("http://127.0.0.1:1")
        );
        assert_eq!(t.aws.profile.as_deref(), Some("dev"));
    }

    #[test]
    fn no_backend_says_which_usual_cause_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let why = |path: &Path, env: &[(&str, &str)]| {
            Target::resolve(&global(), path, &env_of(env))
                .unwrap_err()
                .to_string()
        };
        assert!(why(dir.path(), &[]).contains("has `terraform init` run?"));
        assert!(why(&dir.path().join("nowhere"), &[]).contains("no such directory"));
        let set = why(dir.path(), &[("TF_DATA_DIR", "elsewhere")]);
        assert!(set.contains("TF_DATA_DIR being elsewhere"), "{set}");
    }

    #[test]
    fn a_config_files_region_applies_only_where_the_backend_names_none() {
        let dir = s3_dir();
        let mut g = global();
        g.region = Some("ap-south-1".into());
        g.origins
            .insert("region".into(), Origin::File("/repo/.tflock.toml".into()));
        let t = Target::resolve(&g, dir.path(), &env_of(&[])).unwrap();
        assert_eq!(t.aws.region.as_deref(), Some("eu-west-1"), "the backend's");
        let none = aws_settings(&g, None);
        assert_eq!(none.region.as_deref(), Some("ap-south-1"), "no backend");
        g.origins.insert("region".into(), Origin::Flag);
        let t = Target::resolve(&g, dir.path(), &env_of(&[])).unwrap();
        assert_eq!(t.aws.region.as_deref(), Some("ap-south-1"), "a flag wins");
    }

    #[test]
    fn flags_beat_backend_beats_environment() {
        let dir = s3_dir();
        let env = env_of(&[
            ("AWS_REGION", "us-east-2"),
            ("AWS_ENDPOINT_URL", "http://x"),
            ("AWS_PROFILE", "p"),
        ]);
        // Like terraform: the backend's table location wins over AWS_*, so
        // the lease is always next to terraform's own lock.
        let t = Target::resolve(&global(), dir.path(), &env).unwrap();
        assert_eq!(t.aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            t.aws.dynamodb_endpoint.as_deref(),
            Some("http://127.0.0.1:1")
        );
        assert_eq!(t.aws.profile.as_deref(), Some("dev"));
        let mut g = global();
        g.region = Some("ap-south-1".into());
        g.table = Some("other".into());
        g.lock_key = Some("mine".into());
        let t = Target::resolve(&g, dir.path(), &env).unwrap();
        assert_eq!(t.aws.region.as_deref(), Some("ap-south-1"));
        assert_eq!((t.table.as_str(), t.lock_key.as_str()), ("other", "mine"));
        // Without a backend, the SDK reads the environment itself.
        let empty = tempfile::tempdir().unwrap();
        let t = Target::resolve(&g, empty.path(), &env).unwrap();
        assert_eq!(t.aws.dynamodb_endpoint, None);
    }

    #[test]
    fn no_backend_needs_table_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let err = Target::resolve(&global(), dir.path(), &env_of(&[])).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::CONFIG);
        assert!(err.to_string().contains("--table and --lock-key"), "{err}");
        let mut g = global();
        g.table = Some("t".into());
        g.lock_key = Some("k".into());
        let t = Target::resolve(&g, dir.path(), &env_of(&[])).unwrap();
        assert_eq!(t.terraform_lock, None);
    }

    #[test]
    fn terraforms_lock_timeout_outranks_a_default_from_env_or_file() {
        let ten = Some(Duration::from_secs(600));
        let mut g = global();
        g.lock_timeout = Some("0s".into());
        g.origins.insert(
            "lock-timeout".into(),
            Origin::Env("TFLOCK_LOCK_TIMEOUT".into()),
        );
        assert_eq!(
            Timing::resolve(&g, ten).unwrap().lock_timeout,
            Duration::from_secs(600)
        );
        g.origins.insert(
            "lock-timeout".into(),
            Origin::File(std::path::PathBuf::from(".tflock.toml")),
        );
        assert_eq!(
            Timing::resolve(&g, ten).unwrap().lock_timeout,
            Duration::from_secs(600)
        );
        assert_eq!(
            Timing::resolve(&g, None).unwrap().lock_timeout,
            Duration::ZERO
        );
        g.origins.insert("lock-timeout".into(), Origin::Flag);
        assert_eq!(
            Timing::resolve(&g, ten).unwrap().lock_timeout,
            Duration::ZERO
        );
    }

    #[test]
    fn timing_defaults_and_limits() {
        let t = Timing::resolve(&global(), None).unwrap();
        assert_eq!(
            (t.lease, t.heartbeat, t.lock_timeout),
            (
                Duration::from_secs(30),
                Duration::from_secs(10),
                Duration::ZERO
            )
        );
        let t = Timing::resolve(&global(), Some(Duration::from_secs(60))).unwrap();
        assert_eq!(
            t.lock_timeout,
            Duration::from_secs(60),
            "terraform's -lock-timeout is the default"
        );
        let mut g = global();
        g.lock_timeout = Some("5s".into());
        assert_eq!(
            Timing::resolve(&g, Some(Duration::from_secs(60)))
                .unwrap()
                .lock_timeout,
            Duration::from_secs(5)
        );
        g.lease = Some("9s".into());
        g.heartbeat = Some("3s".into());
        assert!(
            Timing::resolve(&g, None).is_ok(),
            "lease/3 itself is allowed"
        );
        g.heartbeat = Some("3001ms".into());
        let err = Timing::resolve(&g, None).unwrap_err();
        assert!(
            err.to_string().contains("more than a third of the lease"),
            "{err}"
        );
        g.heartbeat = Some("ten".into());
        assert_eq!(
            Timing::resolve(&g, None).unwrap_err().exit_code(),
            crate::error::exit::CONFIG
        );
    }
}
