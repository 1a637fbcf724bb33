//! Command lines as they may be stored in the lock record: the shape of the
//! command without its secrets (DESIGN §9). Values of `-var` and
//! `-backend-config`, anything that looks like a credential, and passwords in
//! URLs are replaced; the environment is never read here at all.

use std::ffi::OsString;

const REDACTED: &str = "<redacted>";
/// Per argument and for the whole line: a lock record is for humans, and a
/// DynamoDB item is at most 400 KB.
const MAX_ARG: usize = 256;
const MAX_LINE: usize = 2048;

/// Flags whose value is `NAME=VALUE` with a secret VALUE.
const ASSIGNMENT_FLAGS: &[&str] = &["var", "backend-config", "tf-var", "inputs"];
/// Words that make a `--flag=value` or `name=value` look like a credential.
const SECRET_WORDS: &[&str] = &[
    "pass",
    "secret",
    "token",
    "credential",
    "access_key",
    "access-key",
    "api_key",
    "api-key",
    "apikey",
    "private_key",
    "private-key",
    "auth",
    // `env TF_VAR_x=... terraform`: terraform variables set on the command line.
    "tf_var_",
];

pub fn command_line(program: &str, args: &[OsString]) -> String {
    let mut out = vec![clip(program)];
    let mut redact_next = false;
    for arg in args {
        let arg = arg.to_string_lossy();
        if redact_next {
            out.push(redact_assignment(&arg));
            redact_next = false;
            continue;
        }
        let flag = arg.trim_start_matches('-');
        let is_flag = arg.starts_with('-') && !flag.is_empty();
        if is_flag {
            let (name, value) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (flag, None),
            };
            if ASSIGNMENT_FLAGS.contains(&name) {
                match value {
                    Some(v) => out.push(format!(
                        "{}={}",
                        &arg[..arg.len() - flag.len() + name.len()],
                        redact_assignment(v)
                    )),
                    None => {
                        out.push(clip(&arg));
                        redact_next = true;
                    }
                }
                continue;
            }
            if value.is_some() && looks_secret(name) {
                out.push(format!(
                    "{}={REDACTED}",
                    &arg[..arg.len() - flag.len() + name.len()]
                ));
                continue;
            }
        } else if let Some((name, _)) = arg.split_once('=')
            && looks_secret(name)
        {
            out.push(format!("{name}={REDACTED}"));
            continue;
        }
        out.push(clip(&redact_url_password(&arg)));
    }
    let mut line = out.join(" ");
    if line.len() > MAX_LINE {
        let cut = floor_char_boundary(&line, MAX_LINE);
        line.truncate(cut);
        line.push_str(" …");
    }
    line
}

/// `name=value` keeps the name (useful to a human, not secret); a value with
/// no `=` (a file path for `-backend-config`) is kept as it is.
fn redact_assignment(v: &str) -> String {
    match v.split_once('=') {
        Some((name, _)) => format!("{}={REDACTED}", clip(name)),
        None => clip(v),
    }
}

fn looks_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

/// `https://user:pass@host/...` → `https://user:<redacted>@host/...`
fn redact_url_password(arg: &str) -> String {
    let Some(scheme_end) = arg.find("://") else {
        return arg.to_string();
    };
    let rest = &arg[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:{REDACTED}{}",
            &arg[..scheme_end + 3],
            &authority[..colon],
            &rest[at..]
        ),
        _ => arg.to_string(),
    }
}

fn clip(s: &str) -> String {
    if s.len() <= MAX_ARG {
        return s.to_string();
    }
    format!("{}…", &s[..floor_char_boundary(s, MAX_ARG)])
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: &[&str]) -> String {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        command_line("terraform", &args)
    }

    #[test]
    fn variable_values_never_appear() {
        let l = line(&[
            "apply",
            "-var",
            "db_password=hunter2",
            "-var=token=abc",
            "--var",
            "x=1",
            "-auto-approve",
        ]);
        assert_eq!(
            l,
            "terraform apply -var db_password=<redacted> -var=token=<redacted> --var x=<redacted> -auto-approve"
        );
    }

    #[test]
    fn backend_config_values_are_redacted_but_files_kept() {
        let l = line(&[
            "init",
            "-backend-config=secret_key=abc",
            "-backend-config",
            "prod.hcl",
        ]);
        assert_eq!(
            l,
            "terraform init -backend-config=secret_key=<redacted> -backend-config prod.hcl"
        );
    }

    #[test]
    fn credential_looking_flags_and_urls_are_redacted() {
        let l = line(&[
            "--api-token=xyz",
            "AWS_SECRET_ACCESS_KEY=abc",
            "https://bob:pw@example.com/x",
            "-var-file=prod.tfvars",
            "TF_VAR_region=eu",
            "DB_PASS=x",
        ]);
        assert_eq!(
            l,
            "terraform --api-token=<redacted> AWS_SECRET_ACCESS_KEY=<redacted> https://bob:<redacted>@example.com/x -var-file=prod.tfvars TF_VAR_region=<redacted> DB_PASS=<redacted>"
        );
        assert!(!l.contains("xyz") && !l.contains("pw@"));
    }

    #[test]
    fn huge_and_non_utf8_arguments_are_bounded() {
        let long = "a".repeat(10_000);
        let args: Vec<OsString> = (0..20).map(|_| OsString::from(&long)).collect();
        let l = command_line("terraform", &args);
        assert!(l.len() <= MAX_LINE + 8, "{}", l.len());
        use std::os::unix::ffi::OsStringExt;
        let l = command_line("x", &[OsString::from_vec(vec![0xff, 0xfe, b'a'])]);
        assert!(l.starts_with("x "));
        let l = line(&["-var", &format!("é{}", "é".repeat(300))]);
        assert!(l.ends_with("<redacted>") || l.contains('…'));
    }

    #[test]
    fn a_trailing_var_flag_is_harmless() {
        assert_eq!(line(&["plan", "-var"]), "terraform plan -var");
    }
}
