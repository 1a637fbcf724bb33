//! Terraform's backend configuration, as `terraform init` recorded it.
//!
//! `terraform init` writes the resolved backend block (with every
//! `-backend-config` merged in) to `.terraform/terraform.tfstate`. Reading that
//! file, rather than parsing HCL, gives exactly the values terraform itself will
//! use, including ones passed on the command line at init time (DESIGN §3).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Where the state of the current directory lives and how terraform locks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Backend {
    pub bucket: String,
    /// The state object's key in the bucket for the selected workspace.
    pub state_path: String,
    pub workspace: String,
    pub region: Option<String>,
    pub dynamodb_table: Option<String>,
    pub dynamodb_endpoint: Option<String>,
    pub s3_endpoint: Option<String>,
    pub profile: Option<String>,
    pub use_lockfile: bool,
    pub use_path_style: bool,
    /// The credentials the backend itself uses, when it names them: the
    /// lease must be in the same account's table as terraform's lock.
    pub credentials: Credentials,
}

/// The backend's own credential settings (terraform's s3 backend options).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `access_key` / `secret_key` / `token`.
    pub keys: Option<(String, String, Option<String>)>,
    /// `assume_role { role_arn, session_name, external_id, duration }` (or
    /// the pre-1.6 top-level `role_arn`, `session_name`, `external_id`).
    pub assume_role: Option<AssumeRole>,
    /// `endpoints.sts` (or the older `sts_endpoint`).
    pub sts_endpoint: Option<String>,
    /// `shared_config_files`: read instead of the default config file
    /// (`~/.aws/config`, or `AWS_CONFIG_FILE`); where `profile` is found.
    pub config_files: Vec<String>,
    /// `shared_credentials_files` (or the pre-1.6 `shared_credentials_file`):
    /// read instead of the default credentials file.
    pub credentials_files: Vec<String>,
    /// The role of `assume_role_with_web_identity`, which tflock does not
    /// assume (see [`crate::aws::unassumed_web_identity`]).
    pub web_identity_role: Option<String>,
}

/// Never prints the keys.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field(
                "keys",
                &self.keys.as_ref().map(|(id, _, _)| (id, "<redacted>")),
            )
            .field("assume_role", &self.assume_role)
            .field("sts_endpoint", &self.sts_endpoint)
            .field("config_files", &self.config_files)
            .field("credentials_files", &self.credentials_files)
            .field("web_identity_role", &self.web_identity_role)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    /// As terraform writes it (`"1h"`); checked when the provider is built.
    pub duration: Option<String>,
}

impl S3Backend {
    /// terraform's own lock item ID in the DynamoDB table: `<bucket>/<path>`.
    pub fn terraform_lock_id(&self) -> String {
        format!("{}/{}", self.bucket, self.state_path)
    }
}

/// What was found in the working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// No `.terraform/terraform.tfstate`: `terraform init` has not run (or the
    /// configuration has no backend block).
    None,
    /// A backend other than s3 (tflock can still lock it with `--table` and `--lock-key`).
    Other {
        kind: String,
    },
    S3(Box<S3Backend>),
}

#[derive(Deserialize)]
struct InitState {
    backend: Option<BackendBlock>,
}

#[derive(Deserialize)]
struct BackendBlock {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    config: serde_json::Map<String, Value>,
}

/// The directory terraform keeps its working files in (`TF_DATA_DIR` or `.terraform`).
pub fn data_dir(workdir: &Path, tf_data_dir: Option<&str>) -> PathBuf {
    match tf_data_dir {
        Some(d) if !d.is_empty() => workdir.join(d),
        _ => workdir.join(".terraform"),
    }
}

/// Reads the backend of `workdir`. `tf_workspace` is `TF_WORKSPACE` when set.
pub fn read(data_dir: &Path, tf_workspace: Option<&str>) -> Result<Backend> {
    let file = data_dir.join("terraform.tfstate");
    let text = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Backend::None),
        Err(e) => {
            return Err(Error::config(format!(
                "cannot read {}: {e}",
                file.display()
            )));
        }
    };
    let corrupt = |why: String| {
        Error::config(format!(
            "{} is corrupt ({why}); run `terraform init` again",
            file.display()
        ))
    };
    let init: InitState = serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
    let Some(block) = init.backend else {
        return Ok(Backend::None);
    };
    if block.kind != "s3" {
        return Ok(Backend::Other { kind: block.kind });
    }
    let cfg = &block.config;
    let bucket = string(cfg, "bucket").ok_or_else(|| corrupt("s3 backend has no bucket".into()))?;
    let key = string(cfg, "key").ok_or_else(|| corrupt("s3 backend has no key".into()))?;
    // terraform uses "env:" only when the prefix is unset: an empty prefix
    // puts workspaces at the bucket's root.
    let prefix = match cfg.get("workspace_key_prefix") {
        Some(Value::String(p)) => p.clone(),
        _ => "env:".to_string(),
    };
    let workspace = match tf_workspace.filter(|w| !w.is_empty()) {
        Some(w) => w.to_string(),
        None => read_workspace(data_dir)?,
    };
    let state_path = if workspace == "default" {
        key
    } else {
        path_join(&[&prefix, &workspace, &key])
    };
    let endpoint = |name: &str| {
        cfg.get("endpoints")
            .and_then(|e| e.get(name))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(Backend::S3(Box::new(S3Backend {
        bucket,
        state_path,
        workspace,
        region: string(cfg, "region"),
        dynamodb_table: string(cfg, "dynamodb_table"),
        // `dynamodb_endpoint` and `endpoint` are the pre-1.6 spellings.
        dynamodb_endpoint: endpoint("dynamodb").or_else(|| string(cfg, "dynamodb_endpoint")),
        s3_endpoint: endpoint("s3").or_else(|| string(cfg, "endpoint")),
        profile: string(cfg, "profile"),
        use_lockfile: cfg.get("use_lockfile").and_then(Value::as_bool) == Some(true),
        // `force_path_style` is the pre-1.6 spelling.
        use_path_style: ["use_path_style", "force_path_style"]
            .iter()
            .any(|k| cfg.get(*k).and_then(Value::as_bool) == Some(true)),
        credentials: Credentials {
            keys: string(cfg, "access_key")
                .zip(string(cfg, "secret_key"))
                .map(|(id, secret)| (id, secret, string(cfg, "token"))),
            assume_role: assume_role(cfg),
            sts_endpoint: endpoint("sts").or_else(|| string(cfg, "sts_endpoint")),
            config_files: strings(cfg, "shared_config_files"),
            credentials_files: match strings(cfg, "shared_credentials_files") {
                files if files.is_empty() => {
                    string(cfg, "shared_credentials_file").into_iter().collect()
                }
                files => files,
            },
            web_identity_role: match cfg.get("assume_role_with_web_identity") {
                Some(Value::Object(block)) => string(block, "role_arn"),
                Some(Value::Array(list)) => list
                    .first()
                    .and_then(Value::as_object)
                    .and_then(|block| string(block, "role_arn")),
                _ => None,
            },
        },
    })))
}

/// The role the backend assumes: the `assume_role` block, or the older
/// top-level attributes.
fn assume_role(cfg: &serde_json::Map<String, Value>) -> Option<AssumeRole> {
    let block = match cfg.get("assume_role") {
        Some(Value::Object(block)) => block,
        // Some versions record the block as a one-element list.
        Some(Value::Array(list)) => list.first().and_then(Value::as_object)?,
        _ => cfg,
    };
    Some(AssumeRole {
        role_arn: string(block, "role_arn")?,
        session_name: string(block, "session_name"),
        external_id: string(block, "external_id"),
        duration: string(block, "duration"),
    })
}

/// The selected workspace: `.terraform/environment`, else `default`.
fn read_workspace(data_dir: &Path) -> Result<String> {
    let file = data_dir.join("environment");
    match std::fs::read_to_string(&file) {
        Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Ok(_) => Ok("default".to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok("default".to_string()),
        Err(e) => Err(Error::config(format!(
            "cannot read {}: {e}",
            file.display()
        ))),
    }
}

/// Go's `path.Join`, as terraform builds workspace state paths: non-empty
/// parts joined by "/", then cleaned (no empty or "." segments, ".." pops).
fn path_join(parts: &[&str]) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in parts.iter().flat_map(|p| p.split('/')) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments.join("/")
}

fn string(cfg: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    cfg.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A list of strings (empty ones skipped); none when absent or null.
fn strings(cfg: &serde_json::Map<String, Value>, name: &str) -> Vec<String> {
    cfg.get(name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(state: &str, environment: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("terraform.tfstate"), state).unwrap();
        if let Some(env) = environment {
            std::fs::write(dir.path().join("environment"), env).unwrap();
        }
        dir
    }

    const S3: &str = r#"{"version":3,"backend":{"type":"s3","config":{
        "bucket":"state","key":"app/terraform.tfstate","region":"eu-west-1",
        "dynamodb_table":"locks","workspace_key_prefix":null,
        "endpoints":{"dynamodb":"http://127.0.0.1:5000","s3":"http://127.0.0.1:5001","iam":null},
        "profile":null,"use_lockfile":null},"hash":1}}"#;

    #[test]
    fn default_workspace_uses_the_key() {
        let dir = dir_with(S3, None);
        let Backend::S3(b) = read(dir.path(), None).unwrap() else {
            panic!("expected s3")
        };
        assert_eq!(b.terraform_lock_id(), "state/app/terraform.tfstate");
        assert_eq!(b.region.as_deref(), Some("eu-west-1"));
        assert_eq!(b.dynamodb_table.as_deref(), Some("locks"));
        assert_eq!(
            b.dynamodb_endpoint.as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(b.s3_endpoint.as_deref(), Some("http://127.0.0.1:5001"));
        assert!(!b.use_lockfile);
    }

    #[test]
    fn the_backends_own_credentials_are_read_and_never_printed() {
        let with = |extra: &str| {
            let state = S3.replace(r#""profile":null"#, extra);
            let dir = dir_with(&state, None);
            match read(dir.path(), None).unwrap() {
                Backend::S3(b) => b.credentials,
                other => panic!("expected s3: {other:?}"),
            }
        };
        assert_eq!(with(r#""profile":null"#), Credentials::default());
        let block = with(
            r#""assume_role":{"role_arn":"arn:aws:iam::1:role/tf","session_name":"ci","external_id":"x","duration":"1h"},
               "endpoints":{"sts":"http://127.0.0.1:5002"}"#,
        );
        assert_eq!(
            block.assume_role,
            Some(AssumeRole {
                role_arn: "arn:aws:iam::1:role/tf".into(),
                session_name: Some("ci".into()),
                external_id: Some("x".into()),
                duration: Some("1h".into()),
            })
        );
        assert_eq!(block.sts_endpoint.as_deref(), Some("http://127.0.0.1:5002"));
        let listed = with(r#""assume_role":[{"role_arn":"arn:aws:iam::1:role/tf"}]"#);
        assert_eq!(
            listed.assume_role.unwrap().role_arn,
            "arn:aws:iam::1:role/tf"
        );
        let legacy = with(r#""role_arn":"arn:aws:iam::1:role/old","sts_endpoint":"http://sts""#);
        assert_eq!(
            legacy.assume_role.unwrap().role_arn,
            "arn:aws:iam::1:role/old"
        );
        assert_eq!(legacy.sts_endpoint.as_deref(), Some("http://sts"));
        assert_eq!(with(r#""assume_role":null"#).assume_role, None);
        let keys = with(r#""access_key":"AKIA1","secret_key":"very-secret""#);
        assert_eq!(
            keys.keys,
            Some(("AKIA1".into(), "very-secret".into(), None))
        );
        assert!(!format!("{keys:?}").contains("very-secret"));
        let files = with(
            r#""shared_config_files":["~/team/config",""],"shared_credentials_files":["/a","/b"]"#,
        );
        assert_eq!(files.config_files, ["~/team/config"]);
        assert_eq!(files.credentials_files, ["/a", "/b"]);
        let old = with(r#""shared_credentials_file":"/old","shared_config_files":null"#);
        assert_eq!(old.credentials_files, ["/old"]);
        assert!(old.config_files.is_empty());
    }

    #[test]
    fn other_workspaces_use_the_prefix() {
        let dir = dir_with(S3, Some("staging\n"));
        let Backend::S3(b) = read(dir.path(), None).unwrap() else {
            panic!("expected s3")
        };
        assert_eq!(b.state_path, "env:/staging/app/terraform.tfstate");
        // TF_WORKSPACE wins over the environment file.
        let Backend::S3(b) = read(dir.path(), Some("prod")).unwrap() else {
            panic!("expected s3")
        };
        assert_eq!(
            b.terraform_lock_id(),
            "state/env:/prod/app/terraform.tfstate"
        );
    }

    #[test]
    fn custom_prefix() {
        let dir = dir_with(
            &S3.replace(
                "\"workspace_key_prefix\":null",
                "\"workspace_key_prefix\":\"ws\"",
            ),
            Some("dev"),
        );
        let Backend::S3(b) = read(dir.path(), None).unwrap() else {
            panic!("expected s3")
        };
        assert_eq!(b.state_path, "ws/dev/app/terraform.tfstate");
    }

    #[test]
    fn an_empty_prefix_puts_workspaces_at_the_root() {
        let dir = dir_with(
            &S3.replace(
                "\"workspace_key_prefix\":null",
                "\"workspace_key_prefix\":\"\"",
            ),
            Some("dev"),
        );
        let Backend::S3(b) = read(dir.path(), None).unwrap() else {
            panic!("expected s3")
        };
        assert_eq!(b.state_path, "dev/app/terraform.tfstate");
        assert_eq!(path_join(&["a/", "/b", "./c//d"]), "a/b/c/d");
    }

    #[test]
    fn missing_file_means_no_backend() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path(), None).unwrap(), Backend::None);
    }

    #[test]
    fn other_backend_types_are_named() {
        let dir = dir_with(
            r#"{"version":3,"backend":{"type":"gcs","config":{}}}"#,
            None,
        );
        assert_eq!(
            read(dir.path(), None).unwrap(),
            Backend::Other { kind: "gcs".into() }
        );
    }

    #[test]
    fn corrupt_files_are_configuration_errors() {
        for text in [
            "{",
            "[]",
            "not json",
            r#"{"backend":{"type":"s3","config":{"key":"k"}}}"#,
            r#"{"backend":{"type":7}}"#,
        ] {
            let dir = dir_with(text, None);
            let err = read(dir.path(), None).unwrap_err();
            assert_eq!(err.exit_code(), crate::error::exit::CONFIG, "{text}");
            assert!(err.to_string().contains("terraform init"), "{err}");
        }
    }
}
