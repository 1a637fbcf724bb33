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
