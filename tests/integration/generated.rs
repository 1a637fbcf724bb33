//! The files the binary generates (completions, man page) are checked in:
//! they must be exactly what this binary prints, and they must work.

use std::process::Command;

use crate::support::*;

fn repo_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn generated(args: &[&str]) -> String {
    let out = output(Command::new(TFLOCK).args(args));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn checked_in_completions_and_man_page_are_what_the_binary_generates() {
    let files = [
        ("bash", "completions/tflock.bash"),
        ("zsh", "completions/_tflock"),
        ("fish", "completions/tflock.fish"),
        ("powershell", "completions/_tflock.ps1"),
        ("elvish", "completions/tflock.elv"),
    ];
    let mut stale = Vec::new();
    for (shell, path) in files {
        if generated(&["completions", shell]) != repo_file(path) {
            stale.push(path);
        }
    }
    if generated(&["man"]) != repo_file("docs/tflock.1") {
        stale.push("docs/tflock.1");
    }
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; run scripts/generate and commit the result"
    );
}

/// What bash completes for the words typed so far.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = format!(
        "source {}/completions/tflock.bash\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_tflock tflock '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        env!("CARGO_MANIFEST_DIR"),
        words.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = output(Command::new("bash").args(["--norc", "-c", &script]));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    stdout(&out).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_tflock_and_terraform_commands() {
    assert_eq!(bash_complete(&["tflock", "ap"]), ["apply"]);
    assert_eq!(bash_complete(&["tflock", "force"]), ["force-unlock"]);
    assert_eq!(bash_complete(&["tflock", "state", "a"]), ["ack"]);
    assert!(bash_complete(&["tflock", "state", ""]).contains(&"mv".to_string()));
    assert_eq!(bash_complete(&["tflock", "status", "--o"]), ["--output"]);
    assert_eq!(bash_complete(&["tflock", "--lock-t"]), ["--lock-timeout"]);
    // After a terraform command the words are terraform's: no tflock flags.
    assert!(
        !bash_complete(&["tflock", "apply", "--"])
            .iter()
            .any(|w| w.starts_with("--")),
    );
}

#[test]
fn the_man_page_renders() {
    let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/tflock.1");
    let out = output(
        Command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80"),
    );
    assert_eq!(code(&out), 0, "man -l failed: {}", stderr(&out));
    let text = stdout(&out);
    for part in [
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "force-unlock",
        "TFLOCK_LOCK_TIMEOUT",
    ] {
        assert!(text.contains(part), "no {part} in:\n{text}");
    }
}

#[test]
fn version_names_the_commit_when_built_from_a_checkout() {
    // -V: tflock's line alone (--version adds terraform's before it).
    let out = generated(&["-V"]);
    let version = env!("CARGO_PKG_VERSION");
    assert!(out.starts_with(&format!("tflock {version}")), "{out}");
    let in_checkout = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short",
            "HEAD",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success());
    if let Some(head) = in_checkout {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        assert!(
            out.contains(&format!("({head} ")),
            "{out} does not name {head}"
        );
    }
}
