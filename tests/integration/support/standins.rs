//! Stand-ins for programs this machine does not have (OpenTofu,
//! terragrunt), doing what the real ones do with tflock.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::Fixture;

pub fn executable(path: &Path, script: &str) {
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A directory for stand-in programs, first on PATH.
pub fn bin_dir(f: &Fixture) -> PathBuf {
    let dir = f.path("bin");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A stand-in for terragrunt that does what terragrunt does with
/// `terraform_binary`: reads the binary's `--version` output with
/// terragrunt's own pattern, `^(\S+)\s(v?\d+\.\d+\.\d+)` anchored at the
/// start of the output (so the first line), and refuses a version below
/// 0.12 or a program that is neither Terraform nor OpenTofu; then runs the
/// command with it in the module directory.
pub fn fake_terragrunt(f: &Fixture) -> PathBuf {
    let bin = bin_dir(f);
    executable(
        &bin.join("terragrunt"),
        r#"#!/bin/sh
tf=$(sed -n 's/^ *terraform_binary *= *"\(.*\)" *$/\1/p' terragrunt.hcl)
tf=${TG_TF_PATH:-${tf:-terraform}}
first=$("$tf" --version | sed -n 1p)
version=$(printf '%s\n' "$first" | sed -nE 's/^(Terraform|OpenTofu) v?([0-9]+)\.([0-9]+)\.[0-9]+.*$/\2 \3/p')
case $version in
    "") echo "terragrunt stand-in: cannot parse the version of $tf: $first" >&2; exit 1 ;;
    "0 "[0-9]|"0 1"[01]) echo "terragrunt stand-in: $tf is too old: $first" >&2; exit 1 ;;
esac
exec "$tf" "$@"
"#,
    );
    bin
}
