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

/// Plain terraform processes on this machine that may hold a terraform
/// lock taken at `before` in `dir`: named like terraform (or OpenTofu),
/// owned by `uid` (any user when `None`), working in `dir`, started no
/// later than a minute after `before` (a wide margin for clock steps: a
/// process counted wrongly only keeps a lock), not the lease's own command
/// (`TFLOCK_TOKEN` = `token`, whose liveness is judged apart) and not a
/// tflock installed under terraform's name. A process whose details we may
/// not read counts: we cannot tell it is not one. `Err` when this machine
/// cannot list its processes well enough to tell (no `/proc`, or processes
/// of other users hidden from us).
pub fn plain_terraform(
    uid: Option<u32>,
    dir: &Path,
    before: chrono::DateTime<chrono::Utc>,
    token: &str,
) -> Result<Vec<u32>, String> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let me = std::process::id();
    let my_exe = std::fs::read_link("/proc/self/exe").ok();
    let entries = std::fs::read_dir("/proc").map_err(|e| format!("cannot list /proc: {e}"))?;
    if let Some(why) = processes_hidden(uid) {
        return Err(why);
    }
    let boot = boot_time();
    let latest = before + chrono::Duration::seconds(60);
    let needle = format!("TFLOCK_TOKEN={token}");
    let mut found: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let path = entry.path();
            if pid == me {
                return None;
            }
            let stat = std::fs::read_to_string(path.join("stat")).ok();
            // Gone, or a zombie (its parent died unreaped): holds nothing.
            let state = stat
                .as_deref()
                .and_then(|s| s[s.rfind(')')? + 1..].split_whitespace().next());
            if matches!(state, Some("Z" | "X")) {
                return None;
            }
            match std::fs::read_to_string(path.join("comm")) {
                Ok(comm) if !looks_like_terraform(comm.trim_end()) => return None,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
                _ => {}
            }
            if let Some(uid) = uid
                && real_and_effective_uid(&path).is_some_and(|(r, e)| r != uid && e != uid)
            {
                return None;
            }
            if let (Some(boot), Some(ticks)) = (boot, start_ticks(&pid.to_string())) {
                let hz = clock_ticks_per_second();
                let started = boot
                    + chrono::Duration::milliseconds(
                        (ticks.parse::<u64>().ok()? * 1000 / hz) as i64,
                    );
                if started > latest {
                    return None;
                }
            }
            match std::fs::read_link(path.join("cwd")) {
                Ok(cwd) if cwd != dir => return None,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
                _ => {}
            }
            if my_exe.is_some() && std::fs::read_link(path.join("exe")).ok() == my_exe {
                return None;
            }
            if let Ok(environ) = std::fs::read(path.join("environ"))
                && environ
                    .split(|b| *b == 0)
                    .any(|var| var == needle.as_bytes())
            {
                return None;
            }
            Some(pid)
        })
        .collect();
    found.sort_unstable();
    Ok(found)
}

/// terraform under its own name or a versioned or wrapped one
/// (`terraform1.5.7`, `.terraform-wrap`), or OpenTofu; not terraform's
/// language server, which takes no lock.
fn looks_like_terraform(comm: &str) -> bool {
    (comm.contains("terraform") && comm != "terraform-ls") || comm.starts_with("tofu")
}

/// The real and effective uid of a process (`Uid:` in its status).
fn real_and_effective_uid(proc_dir: &Path) -> Option<(u32, u32)> {
    let status = std::fs::read_to_string(proc_dir.join("status")).ok()?;
    let mut ids = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .map(|v| v.parse::<u32>().ok());
    Some((ids.next()??, ids.next()??))
}

/// Why this process cannot see other users' processes: `/proc` mounted
/// with `hidepid` (or `subset=pid`), and we are neither root nor `uid`.
fn processes_hidden(uid: Option<u32>) -> Option<String> {
    let me = nix::unistd::geteuid().as_raw();
    if me == 0 || uid == Some(me) {
        return None;
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let options = mounts.lines().find_map(|l| {
        let fields: Vec<&str> = l.split_whitespace().collect();
        (fields.get(4) == Some(&"/proc")).then(|| l.rsplit(' ').next().unwrap_or("").to_string())
    })?;
    options
        .split(',')
        .any(|o| {
            matches!(
                o,
                "hidepid=1" | "hidepid=2" | "hidepid=noaccess" | "hidepid=invisible" | "subset=pid"
            )
        })
        .then(|| format!("/proc hides other users' processes from this user ({options})"))
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
    fn plain_terraform_is_found_by_name_user_directory_start_and_token() {
        let bin = tempfile::tempdir().unwrap();
        let sleep = ["/bin/sleep", "/usr/bin/sleep"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap();
        let here = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let start = |name: &str, token: Option<&str>| {
            let program = bin.path().join(name);
            if !program.exists() {
                std::os::unix::fs::symlink(sleep, &program).unwrap();
            }
            let mut cmd = std::process::Command::new(program);
            cmd.arg("30")
                .current_dir(here.path())
                .env_remove("TFLOCK_TOKEN");
            if let Some(token) = token {
                cmd.env("TFLOCK_TOKEN", token);
            }
            cmd.spawn().unwrap()
        };
        let mut plain = start("terraform", None);
        let mut leased = start("terraform", Some("the-lease"));
        let mut tofu = start("tofu", None);
        let mut ls = start("terraform-ls", None);
        let mut zombie = start("terraform", None);
        let all = [&plain, &leased, &tofu, &ls, &zombie];
        // Named as they are once they have exec'd, and their environment
        // readable a moment later.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let execd = |pid: u32| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| looks_like_terraform(c.trim_end()) || c.starts_with("terraform-ls"))
                && std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|e| !e.is_empty())
        };
        while !all.iter().all(|c| execd(c.id())) {
            assert!(std::time::Instant::now() < deadline, "never exec'd");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // Killed and not waited for: a zombie until reaped.
        zombie.kill().unwrap();
        let state = |pid: u32| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            stat[stat.rfind(')').unwrap() + 2..].chars().next()
        };
        while state(zombie.id()) != Some('Z') {
            assert!(std::time::Instant::now() < deadline, "never a zombie");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let uid = nix::unistd::getuid().as_raw();
        let now = chrono::Utc::now();
        let mut expected = vec![plain.id(), tofu.id()];
        expected.sort_unstable();
        let found =
            |uid, dir: &Path, before, token| plain_terraform(uid, dir, before, token).unwrap();
        assert_eq!(found(Some(uid), here.path(), now, "the-lease"), expected);
        // Under another lease, a terraform is plain to this one.
        let mut with_leased = vec![plain.id(), tofu.id(), leased.id()];
        with_leased.sort_unstable();
        assert_eq!(found(None, here.path(), now, "another"), with_leased);
        assert!(found(Some(uid), elsewhere.path(), now, "the-lease").is_empty());
        assert!(found(Some(uid + 1), here.path(), now, "the-lease").is_empty());
        let long_ago = now - chrono::Duration::minutes(2);
        assert!(found(Some(uid), here.path(), long_ago, "the-lease").is_empty());
        for child in [&mut plain, &mut leased, &mut tofu, &mut ls] {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        zombie.wait().unwrap();
        assert!(found(Some(uid), here.path(), now, "the-lease").is_empty());
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
