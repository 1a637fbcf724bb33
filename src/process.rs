//! Which process a lease holder is, precisely enough to tell, on the same
//! machine, whether it still runs: a pid alone is not enough (pids are
//! reused, deterministically so in containers, and containers share
//! hostnames), so the record also names the boot, the pid namespace and the
//! process's start time.

use std::path::{Path, PathBuf};

/// This process's identity: `"<boot id> <pid namespace> <start ticks>"`.
/// Parts that cannot be read are `-`.
pub fn identity() -> String {
    identity_of("self")
}

/// Process `pid` as [`command_running`] recognises it: its pid, then
/// its identity.
pub fn describe(pid: u32) -> String {
    format!("{pid} {}", identity_of(&pid.to_string()))
}

/// The process [`describe`] described, as this machine shows it: its pid
/// and whether it still runs here (the same pid started at the same time,
/// in this boot and pid namespace: a reused pid is not it). `None` when
/// this machine cannot tell (garbled, another boot or namespace).
pub fn command_running(described: &str) -> Option<(u32, Presence)> {
    let (pid, identity) = described.split_once(' ')?;
    let pid: u32 = pid.parse().ok()?;
    Some((pid, still_running(pid, Some(identity))?))
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

/// The fields of `/proc/<pid>/stat` after the command name, from field 3
/// (the state) on: the name (field 2) may hold spaces and parentheses, so
/// fields are counted after its last ')'.
fn stat_fields(pid: &str) -> std::io::Result<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    Ok(stat.rfind(')').map_or_else(Vec::new, |end| {
        stat[end + 1..]
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }))
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks
/// since boot.
fn start_ticks(pid: &str) -> Option<String> {
    stat_fields(pid).ok()?.get(19).cloned()
}

/// The value of `name` in the environment of the process at `proc_dir`
/// (`None` when unset or unreadable: another user's process).
pub fn environ_var(proc_dir: &Path, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    std::fs::read(proc_dir.join("environ"))
        .ok()?
        .split(|b| *b == 0)
        .find_map(|var| var.strip_prefix(prefix.as_bytes()))
        .map(|value| String::from_utf8_lossy(value).into_owned())
}

/// Whether the process at `proc_dir` runs under the lease with `token`: its
/// environment holds `TFLOCK_TOKEN=<token>` (false when unreadable).
fn runs_under(proc_dir: &Path, token: &str) -> bool {
    environ_var(proc_dir, "TFLOCK_TOKEN").as_deref() == Some(token)
}

/// What this machine shows of a recorded process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Running,
    Gone,
    /// A process has its pid, but its details are hidden from us (`/proc`
    /// with `hidepid`, or a security module): it may be the one recorded.
    Hidden,
}

/// Whether the process recorded as `pid` with `identity` (from
/// [`identity`]) is still running on this machine. `None` when this machine
/// cannot tell (another boot, another pid namespace, nothing recorded).
pub fn still_running(pid: u32, identity: Option<&str>) -> Option<Presence> {
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
    let Ok(fields) = stat_fields(&pid.to_string()) else {
        // Unreadable: gone, or hidden from us. Only the kernel's answer to
        // a signal 0 (which hidepid does not change) tells which: a
        // process we may not signal still exists.
        let pid = nix::unistd::Pid::from_raw(pid as i32);
        return Some(match nix::sys::signal::kill(pid, None) {
            Err(nix::errno::Errno::ESRCH) => Presence::Gone,
            _ => Presence::Hidden,
        });
    };
    // A zombie has exited: nothing reaped it yet (an orphan under a pid 1
    // that never reaps stays one for good), and it holds nothing, unless it
    // is a leader whose other threads still run (as the scan below counts).
    if matches!(fields.first().map(String::as_str), Some("Z" | "X"))
        && threads(Path::new(&format!("/proc/{pid}"))) <= 1
    {
        return Some(Presence::Gone);
    }
    Some(
        if rec_start == "-" || fields.get(19).map(String::as_str) == Some(rec_start) {
            Presence::Running
        } else {
            Presence::Gone
        },
    )
}

/// A process on this machine whose environment says it runs under the lease
/// with `token` (tflock gives its child `TFLOCK_TOKEN`): the holder's command,
/// still running after its tflock died. Processes we may not read are
/// skipped.
pub fn child_running(token: &str) -> Option<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            (pid != me && runs_under(&entry.path(), token)).then_some(pid)
        })
}

/// How long after a lock was taken a process that may hold it can have
/// started, as this machine's clocks say: wide, for a clock stepped
/// meanwhile (a process counted wrongly only keeps a lock).
pub const STARTED_MARGIN: chrono::Duration = chrono::Duration::minutes(10);

/// A plain terraform process that may hold a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainTerraform {
    pub pid: u32,
    /// Its working directory, when readable.
    pub cwd: Option<PathBuf>,
}

/// Plain terraform processes on this machine that may hold a terraform
/// lock taken at `taken` (unknown: any time) for the state of `dir`: named
/// like terraform (or OpenTofu), started no later than [`STARTED_MARGIN`]
/// after `taken`, not the lease's own command (`TFLOCK_TOKEN` = `token`,
/// whose liveness is judged apart) and not a tflock installed under
/// terraform's name, working in `dir` (the same directory, however reached;
/// of any user: a container's terraform may run under a uid its `Who` does
/// not name) or in another directory for which `same_state` (given the
/// process's `/proc` directory) says it may work on that state (another
/// clone of the configuration). A process whose details we may not read
/// counts: we cannot tell it is not one. `Err` when this machine cannot
/// list its processes well enough to tell (no `/proc`, or other users'
/// processes hidden from us).
pub fn plain_terraform(
    dir: &Path,
    taken: Option<chrono::DateTime<chrono::Utc>>,
    token: &str,
    same_state: impl Fn(&Path) -> bool,
) -> Result<Vec<PlainTerraform>, String> {
    use std::io::ErrorKind::NotFound;
    use std::os::unix::fs::MetadataExt;
    let cannot_list = |e: std::io::Error| format!("cannot list this machine's processes: {e}");
    let dir = std::fs::metadata(dir)
        .map(|m| (m.dev(), m.ino()))
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    if let Some(why) = processes_hidden() {
        return Err(why);
    }
    let me = std::process::id();
    let my_exe = std::fs::read_link("/proc/self/exe").ok();
    let boot = boot_time();
    let hz = clock_ticks_per_second();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").map_err(cannot_list)? {
        let entry = entry.map_err(cannot_list)?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        if pid == me {
            continue;
        }
        let fields = match stat_fields(&pid.to_string()) {
            Err(e) if e.kind() == NotFound => continue,
            fields => fields.unwrap_or_default(),
        };
        // A zombie (exited, its parent has not reaped it) holds nothing,
        // unless it is a leader whose other threads still run: that one
        // counts (its directory is no longer readable).
        if matches!(fields.first().map(String::as_str), Some("Z" | "X")) {
            if threads(&path) > 1 && may_be_terraform(&path) {
                found.push(PlainTerraform { pid, cwd: None });
            }
            continue;
        }
        if !may_be_terraform(&path) {
            continue;
        }
        if let (Some(boot), Some(taken), Some(ticks)) = (
            boot,
            taken,
            fields.get(19).and_then(|t| t.parse::<i64>().ok()),
        ) {
            let started = boot + chrono::Duration::milliseconds(ticks.saturating_mul(1000) / hz);
            if started > taken + STARTED_MARGIN {
                continue;
            }
        }
        // Its working directory, compared by device and inode: the same
        // directory through another path (a bind mount, a symlink) is it.
        // Elsewhere, it may work on the same state all the same.
        match std::fs::metadata(path.join("cwd")) {
            Ok(cwd) if (cwd.dev(), cwd.ino()) != dir && !same_state(&path) => continue,
            Err(e) if e.kind() == NotFound => continue,
            _ => {}
        }
        if my_exe.is_some() && std::fs::read_link(path.join("exe")).ok() == my_exe {
            continue;
        }
        if runs_under(&path, token) {
            continue;
        }
        found.push(PlainTerraform {
            pid,
            cwd: std::fs::read_link(path.join("cwd")).ok(),
        });
    }
    found.sort_unstable_by_key(|p| p.pid);
    Ok(found)
}

/// Whether a process may be terraform: its name (cut to 15 bytes by the
/// kernel), its executable's or its first argument's file name looks like
/// terraform (`terraform1.5.7`, `.terraform-wrap`, `hashicorp-terraform`)
/// or OpenTofu, and is not terraform's language server (which takes no
/// lock). When none can be read, it may be.
fn may_be_terraform(proc_dir: &Path) -> bool {
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let names: Vec<String> = [
        std::fs::read_to_string(proc_dir.join("comm"))
            .ok()
            .map(|c| c.trim_end().to_string()),
        std::fs::read_link(proc_dir.join("exe"))
            .ok()
            .map(|p| base(&p.to_string_lossy())),
        std::fs::read(proc_dir.join("cmdline")).ok().and_then(|c| {
            c.split(|b| *b == 0)
                .next()
                .filter(|a| !a.is_empty())
                .map(|a| base(&String::from_utf8_lossy(a)))
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    names.is_empty()
        || names.iter().any(|n| {
            (n.contains("terraform") && !n.starts_with("terraform-ls")) || n.contains("tofu")
        })
}

/// Threads of a process (`Threads:` in its status); 0 when unreadable.
fn threads(proc_dir: &Path) -> u32 {
    std::fs::read_to_string(proc_dir.join("status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Why this process cannot see every process on this machine: `/proc`
/// mounted with `hidepid` (other users' processes hidden, or their details
/// unreadable) and no `CAP_SYS_PTRACE`, which alone lifts that (root
/// without it, in a container, sees other users' processes no better). A
/// `gid=` exemption is not trusted: it does not hold under
/// `hidepid=ptraceable`, nor for groups of another user namespace.
fn processes_hidden() -> Option<String> {
    let mounts = match std::fs::read_to_string("/proc/self/mountinfo") {
        Ok(m) => m,
        Err(e) => return Some(format!("cannot read /proc/self/mountinfo: {e}")),
    };
    if !hides_processes(&mounts) || has_capability(19) {
        return None;
    }
    Some("/proc hides other users' processes (hidepid) and tflock lacks CAP_SYS_PTRACE".into())
}

/// Whether the `/proc` that `mountinfo` shows has a `hidepid` option.
fn hides_processes(mountinfo: &str) -> bool {
    // The last mount on /proc is the one seen (a later one covers it).
    mountinfo
        .lines()
        .rev()
        .find(|l| l.split_whitespace().nth(4) == Some("/proc"))
        .is_some_and(|line| {
            line.split([' ', ','])
                .filter_map(|o| o.strip_prefix("hidepid="))
                .any(|v| !matches!(v, "0" | "off"))
        })
}

/// Whether this process holds the capability numbered `bit` (`CapEff`).
fn has_capability(bit: u32) -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << bit) != 0)
}

/// When this machine booted (`btime` in `/proc/stat`).
pub fn boot_time() -> Option<chrono::DateTime<chrono::Utc>> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let secs = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse::<i64>()
        .ok()?;
    chrono::DateTime::from_timestamp(secs, 0)
}

fn clock_ticks_per_second() -> i64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|t| *t > 0)
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidepid_is_read_from_the_last_proc_mount() {
        let plain = "22 27 0:21 / /proc rw,relatime - proc proc rw\n";
        let hidden = "30 27 0:40 / /proc rw,relatime - proc proc rw,hidepid=invisible\n";
        let with_gid = "31 27 0:41 / /proc rw,relatime - proc proc rw,hidepid=2,gid=27\n";
        let off = "32 27 0:42 / /proc rw,relatime - proc proc rw,hidepid=off\n";
        let elsewhere = "33 27 0:43 / /mnt/proc rw - proc proc rw,hidepid=2\n";
        assert!(!hides_processes(plain));
        assert!(hides_processes(hidden));
        assert!(hides_processes(with_gid), "gid= is not trusted");
        assert!(!hides_processes(off));
        assert!(!hides_processes(&format!("{plain}{elsewhere}")));
        // A later mount covers an earlier one.
        assert!(hides_processes(&format!("{plain}{hidden}")));
        assert!(!hides_processes(&format!("{hidden}{plain}")));
        assert!(!hides_processes(""));
    }

    #[test]
    fn our_own_identity_is_complete() {
        let id = identity();
        let parts: Vec<&str> = id.split(' ').collect();
        assert_eq!(parts.len(), 3, "{id}");
        assert!(parts.iter().all(|p| *p != "-"), "{id}");
    }

    #[test]
    fn plain_terraform_is_found_by_name_directory_start_and_token() {
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
                .is_ok_and(|c| c.starts_with("terraform") || c.starts_with("tofu"))
                && std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|e| !e.is_empty())
        };
        while !all.iter().all(|c| execd(c.id())) {
            assert!(std::time::Instant::now() < deadline, "never exec'd");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // Killed and not waited for: a zombie until reaped.
        zombie.kill().unwrap();
        let state = |pid: u32| stat_fields(&pid.to_string()).unwrap().first().cloned();
        while state(zombie.id()).as_deref() != Some("Z") {
            assert!(std::time::Instant::now() < deadline, "never a zombie");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let now = Some(chrono::Utc::now());
        let mut expected = vec![plain.id(), tofu.id()];
        expected.sort_unstable();
        let pids =
            |found: Vec<PlainTerraform>| found.into_iter().map(|p| p.pid).collect::<Vec<_>>();
        let found =
            |dir: &Path, taken, token| pids(plain_terraform(dir, taken, token, |_| false).unwrap());
        assert_eq!(found(here.path(), now, "the-lease"), expected);
        // The same directory through a symlink; no time known.
        let link = elsewhere.path().join("link");
        std::os::unix::fs::symlink(here.path(), &link).unwrap();
        assert_eq!(found(&link, None, "the-lease"), expected);
        // Under another lease, a terraform is plain to this one.
        let mut with_leased = vec![plain.id(), tofu.id(), leased.id()];
        with_leased.sort_unstable();
        assert_eq!(found(here.path(), now, "another"), with_leased);
        assert!(found(elsewhere.path(), now, "the-lease").is_empty());
        // Seen from another directory, they count when they may work on
        // the same state.
        let asked = std::cell::RefCell::new(Vec::new());
        let from_elsewhere = plain_terraform(elsewhere.path(), now, "the-lease", |proc_dir| {
            asked.borrow_mut().push(proc_dir.to_path_buf());
            proc_dir.ends_with(tofu.id().to_string())
        })
        .unwrap();
        assert_eq!(
            from_elsewhere,
            vec![PlainTerraform {
                pid: tofu.id(),
                cwd: Some(std::fs::canonicalize(here.path()).unwrap()),
            }]
        );
        assert!(
            asked
                .borrow()
                .contains(&Path::new("/proc").join(plain.id().to_string())),
            "asked about {:?}",
            asked.borrow()
        );
        let long_ago = now.map(|t| t - STARTED_MARGIN - chrono::Duration::minutes(1));
        assert!(found(here.path(), long_ago, "the-lease").is_empty());
        for child in [&mut plain, &mut leased, &mut tofu, &mut ls] {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        zombie.wait().unwrap();
        assert!(found(here.path(), now, "the-lease").is_empty());
    }

    #[test]
    fn a_live_process_is_recognised_only_with_its_own_start_time() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let real = identity_of(&pid.to_string());
        assert_eq!(still_running(pid, Some(&real)), Some(Presence::Running));
        // Same pid, another start time: a reused pid, not the holder.
        let parts: Vec<&str> = real.split(' ').collect();
        let reused = format!("{} {} 1", parts[0], parts[1]);
        assert_eq!(still_running(pid, Some(&reused)), Some(Presence::Gone));
        // Another boot: this machine cannot tell.
        let other_boot = format!("x {} {}", parts[1], parts[2]);
        assert_eq!(still_running(pid, Some(&other_boot)), None);
        assert_eq!(still_running(pid, None), None);
        assert_eq!(
            still_running(std::process::id(), Some(&identity())),
            None,
            "never ourselves"
        );
        // Killed, not yet reaped: a zombie has exited, and is not running.
        child.kill().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while stat_fields(&pid.to_string())
            .unwrap()
            .first()
            .map(String::as_str)
            != Some("Z")
        {
            assert!(std::time::Instant::now() < deadline, "never a zombie");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(still_running(pid, Some(&real)), Some(Presence::Gone));
        child.wait().unwrap();
        assert_eq!(still_running(pid, Some(&real)), Some(Presence::Gone));
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
