//! Which process a lease holder is, precisely enough to tell, on the same
//! machine, whether it still runs: a pid alone is not enough (pids are
//! reused, deterministically so in containers, and containers share
//! hostnames), so the record also names the boot, the pid namespace and the
//! process's start time.

use std::path::Path;

/// This process's identity: `"<boot id> <pid namespace> <start ticks>"`.
/// Parts that cannot be read are `-`.
pub fn identity() -> String {
    identity_of("self")
}

fn identity_of(pid: &str) -> String {
    format!(
        "{} {} {}",
        boot_id().unwrap_or_else(|| "-".into()),
        pid_namespace(pid).unwrap_or_else(|| "-".into()),
        start_ticks(pid).unwrap_or_else(|| "-".into())
    )
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
}

fn pid_namespace(pid: &str) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks
/// since boot. The command name (field 2) may hold spaces and parentheses,
/// so fields are counted after its last ')'.
fn start_ticks(pid: &str) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_string)
}

/// Whether the process recorded as `pid` with `identity` (from
/// [`identity`]) is still running on this machine. `None` when this machine
/// cannot tell (another boot, another pid namespace, nothing recorded).
pub fn still_running(pid: u32, identity: Option<&str>) -> Option<bool> {
    if pid == 0 || pid == std::process::id() {
        // Not a real holder, or ourselves: never proof about someone else.
        return None;
    }
    let here = identity_of("self");
    let mut here = here.split(' ');
    let (boot, ns) = (here.next()?, here.next()?);
    let recorded: Vec<&str> = identity.unwrap_or("").split(' ').collect();
    let [rec_boot, rec_ns, rec_start] = recorded[..] else {
        return None;
    };
    if rec_boot == "-" || rec_boot != boot || rec_ns == "-" || rec_ns != ns {
        return None;
    }
    let pid = pid.to_string();
    if !Path::new(&format!("/proc/{pid}")).exists() {
        return Some(false);
    }
    Some(rec_start == "-" || start_ticks(&pid).as_deref() == Some(rec_start))
}

/// A process on this machine whose environment says it runs under the lease
/// with `token` (tflock gives its child `TFLOCK_TOKEN`): the holder's command,
/// still running after its tflock died. Processes we may not read are
/// skipped.
pub fn child_running(token: &str) -> Option<u32> {
    let needle = format!("TFLOCK_TOKEN={token}");
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            if pid == me {
                return None;
            }
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            environ
                .split(|b| *b == 0)
                .any(|var| var == needle.as_bytes())
                .then_some(pid)
        })
}

/// Plain terraform processes on this machine (not run by tflock: no
/// `TFLOCK_TOKEN` in their environment) of user `uid`, working in `dir`,
/// started no later than `before`: a terraform lock taken in that directory
/// at `before` may be theirs. A process whose directory or environment we
/// may not read counts: we cannot tell it is not one.
pub fn plain_terraform(uid: u32, dir: &Path, before: chrono::DateTime<chrono::Utc>) -> Vec<u32> {
    use std::os::unix::fs::MetadataExt;
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let boot = boot_time();
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let path = entry.path();
            if pid == me
                || std::fs::read_to_string(path.join("comm")).ok()?.trim_end() != "terraform"
                || entry.metadata().ok()?.uid() != uid
            {
                return None;
            }
            // Started after `before` (with a second for the clocks'
            // rounding): it cannot have taken the lock then.
            if let (Some(boot), Some(ticks)) = (boot, start_ticks(&pid.to_string())) {
                let hz = clock_ticks_per_second();
                let started = boot
                    + chrono::Duration::milliseconds(
                        (ticks.parse::<u64>().ok()? * 1000 / hz) as i64,
                    );
                if started > before + chrono::Duration::seconds(1) {
                    return None;
                }
            }
            if let Ok(cwd) = std::fs::read_link(path.join("cwd"))
                && cwd != dir
            {
                return None;
            }
            if let Ok(environ) = std::fs::read(path.join("environ"))
                && environ
                    .split(|b| *b == 0)
                    .any(|var| var.starts_with(b"TFLOCK_TOKEN="))
            {
                return None;
            }
            Some(pid)
        })
        .collect();
    found.sort_unstable();
    found
}

/// When this machine booted (`btime` in `/proc/stat`).
fn boot_time() -> Option<chrono::DateTime<chrono::Utc>> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let secs = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse::<i64>()
        .ok()?;
    chrono::DateTime::from_timestamp(secs, 0)
}

fn clock_ticks_per_second() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|t| u64::try_from(t).ok())
        .filter(|t| *t > 0)
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_identity_is_complete() {
        let id = identity();
        let parts: Vec<&str> = id.split(' ').collect();
        assert_eq!(parts.len(), 3, "{id}");
        assert!(parts.iter().all(|p| *p != "-"), "{id}");
    }

    #[test]
    fn plain_terraform_is_found_by_name_user_directory_start_and_environment() {
        let bin = tempfile::tempdir().unwrap();
        let terraform = bin.path().join("terraform");
        let sleep = ["/bin/sleep", "/usr/bin/sleep"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap();
        std::os::unix::fs::symlink(sleep, &terraform).unwrap();
        let here = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let start = |env: Option<&str>| {
            let mut cmd = std::process::Command::new(&terraform);
            cmd.arg("30").current_dir(here.path());
            if let Some(token) = env {
                cmd.env("TFLOCK_TOKEN", token);
            }
            cmd.spawn().unwrap()
        };
        let mut plain = start(None);
        let mut guarded = start(Some("t"));
        // Their name is terraform once they have exec'd, and their
        // environment readable a moment later.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let execd = |pid: u32| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "terraform\n")
                && std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|e| !e.is_empty())
        };
        while ![&plain, &guarded].iter().all(|c| execd(c.id())) {
            assert!(std::time::Instant::now() < deadline, "never exec'd");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let uid = nix::unistd::getuid().as_raw();
        let now = chrono::Utc::now();
        assert_eq!(plain_terraform(uid, here.path(), now), [plain.id()]);
        assert!(plain_terraform(uid, elsewhere.path(), now).is_empty());
        assert!(plain_terraform(uid + 1, here.path(), now).is_empty());
        let long_ago = now - chrono::Duration::minutes(1);
        assert!(plain_terraform(uid, here.path(), long_ago).is_empty());
        for child in [&mut plain, &mut guarded] {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        assert!(plain_terraform(uid, here.path(), now).is_empty());
    }

    #[test]
    fn a_live_process_is_recognised_only_with_its_own_start_time() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let real = identity_of(&pid.to_string());
        assert_eq!(still_running(pid, Some(&real)), Some(true));
        // Same pid, another start time: a reused pid, not the holder.
        let parts: Vec<&str> = real.split(' ').collect();
        let reused = format!("{} {} 1", parts[0], parts[1]);
        assert_eq!(still_running(pid, Some(&reused)), Some(false));
        // Another boot: this machine cannot tell.
        let other_boot = format!("x {} {}", parts[1], parts[2]);
        assert_eq!(still_running(pid, Some(&other_boot)), None);
        assert_eq!(still_running(pid, None), None);
        assert_eq!(
            still_running(std::process::id(), Some(&identity())),
            None,
            "never ourselves"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(still_running(pid, Some(&real)), Some(false));
    }

    #[test]
    fn a_child_is_found_by_its_token() {
        let token = uuid::Uuid::new_v4().to_string();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .env("TFLOCK_TOKEN", &token)
            .spawn()
            .unwrap();
        // Until it has exec'd, the child shows its parent's environment.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while child_running(&token).is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(child_running(&token), Some(child.id()));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(child_running(&token), None);
    }
}
