//! The lease item as stored in DynamoDB, and its strict parsing.
//!
//! Items are read back from a table other tools write too; anything this
//! module cannot vouch for is reported as garbled and never overwritten
//! silently (DESIGN §9).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

/// Attribute names of the lease item. Several are DynamoDB reserved words
/// ("state", "owner"...), so expressions always refer to them through
/// `#placeholders`.
///
/// The lease proper is one map, `lease`: an acquisition writes it whole, in
/// one expression clause, where a dozen attributes would each cost one (the
/// emulator takes about 0.7 ms per clause, on every acquisition), and it
/// replaces whatever the previous holder left in it. Names with a dot are
/// paths into that map ([`Expr::name`](super::update::Expr::name) makes
/// them `#lease.#state`). What outlives a holder stays at the top: the
/// fence, the TTL, the line, the state guard's baseline, runs not yet copied
/// to the history.
pub mod attr {
    pub const KEY: &str = "LockID";
    /// The lease map (the paths below).
    pub const LEASE: &str = "lease";
    /// Marks the item as a tflock lease and names its format version.
    pub const FORMAT: &str = "lease.format";
    pub const STATE: &str = "lease.state";
    pub const OWNER: &str = "lease.owner_token";
    pub const RVN: &str = "lease.rvn";
    /// Who holds (or last held) the lease, in one map (see [`holder`]).
    pub const HOLDER: &str = "lease.holder";
    /// The wall-clock expiry (the holder's clock): for humans, never trusted.
    pub const EXPIRES_AT: &str = "lease.expires_at";
    /// `{at, by}` once released (`by` when someone else forced it).
    pub const RELEASED: &str = "lease.released";
    pub const TERRAFORM_LOCK_ID: &str = "lease.terraform_lock_id";
    /// The holder's command as a process: `<pid> <boot> <pid namespace>
    /// <start>`, recorded by its first renewal. Proof of life that any user
    /// on the holder's machine can check (`/proc/PID/stat`), where the
    /// command's environment (its `TFLOCK_TOKEN`) is readable only by its
    /// own user and root.
    pub const COMMAND_PROCESS: &str = "lease.command_process";
    /// The holder's place in the queue (its ticket), when it took the lock
    /// in its turn (a lock taken free, with nobody in line, needs none).
    pub const TICKET: &str = "lease.ticket";
    pub const FENCE: &str = "fence";
    /// Epoch seconds for the table's TTL: garbage collection of abandoned
    /// leases only, days after expiry. Removed on release, so a released
    /// lease (and its fence) is never collected.
    pub const GC_AT: &str = "gc_at";
    /// The state object as the last release left it (JSON; see `state.rs`).
    pub const STATE_SEEN: &str = "state_seen";
    /// A random mark the last forced release wrote (force-unlock): how one
    /// whose answer was lost knows it landed, even under a new holder.
    pub const LAST_FORCED: &str = "last_forced";
    /// The next ticket a waiter will get.
    pub const NEXT_TICKET: &str = "next_ticket";
    /// The ticket allowed to take the lock when it is free: a holder's own
    /// while it holds one; after a release, the next in line.
    pub const SERVING: &str = "serving";
    /// Prefix of one attribute per queued waiter: `wait_<ticket>`, a map of
    /// its heartbeat and who it is.
    pub const WAITER_PREFIX: &str = "wait_";
    /// Finished runs not yet copied to the history items, each the history
    /// event as JSON written by its run's release itself (see `history.rs`):
    /// in slot `run_<fence mod RUN_SLOTS>` (see [`run_slot`](super::run_slot)).
    pub const RUN_SLOT_PREFIX: &str = "run_";
    /// Where builds before the slots kept those records: a map from fence to
    /// JSON. Read and copied, never written.
    pub const RUNS: &str = "runs";

    /// The field of the lease map a path names (`lease.state` → `state`).
    pub fn field(path: &str) -> &str {
        path.strip_prefix("lease.").unwrap_or(path)
    }
}

/// Fields of the `holder` map.
pub mod holder {
    /// `user@host`, terraform's `Who` format.
    pub const WHO: &str = "who";
    pub const HOST: &str = "host";
    pub const PID: &str = "pid";
    /// The holder's process identity on its machine (see `process.rs`).
    pub const PROCESS: &str = "process";
    pub const OPERATION: &str = "operation";
    pub const COMMAND: &str = "command";
    pub const CI_URL: &str = "ci_url";
    pub const ACQUIRED_AT: &str = "acquired_at";
    pub const LEASE_MS: &str = "lease_ms";
}

/// The item format. `lease-v1` (top-level attributes, before the lease map)
/// is refused as garbled, never overwritten.
pub const FORMAT_V2: &str = "lease-v2";
pub const STATE_HELD: &str = "held";
pub const STATE_RELEASED: &str = "released";

/// Prefix of lease item keys. terraform's own items are `<bucket>/<path>` and
/// `<bucket>/<path>-md5`; S3 bucket names cannot contain ':', so a key that
/// starts with "tflock:" can never be one of terraform's.
pub const LEASE_KEY_PREFIX: &str = "tflock:";

pub fn lease_item_key(lock_key: &str) -> String {
    format!("{LEASE_KEY_PREFIX}{lock_key}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    Held,
    Released,
}

/// A lease item, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRecord {
    pub state: LeaseState,
    pub owner_token: String,
    pub rvn: String,
    pub fence: u64,
    pub lease: Duration,
    pub holder: String,
    pub host: String,
    pub pid: u32,
    /// Boot, pid namespace and start time of the holder's process.
    pub process: Option<String>,
    pub operation: String,
    pub command: String,
    pub ci_url: Option<String>,
    pub acquired_at: DateTime<Utc>,
    pub renewed_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub released_at: Option<DateTime<Utc>>,
    /// Who released it, when it was not its holder (force-unlock).
    pub released_by: Option<String>,
    pub terraform_lock_id: Option<String>,
    /// The holder's command as a process (see [`attr::COMMAND_PROCESS`]).
    pub command_process: Option<String>,
    /// The state object as the last release left it; `None` before any.
    pub state_seen: Option<crate::state::Seen>,
    /// The mark of the last forced release (see [`attr::LAST_FORCED`]).
    pub last_forced: Option<String>,
    /// The holder's ticket (absent when it took the lock free).
    pub ticket: Option<u64>,
    pub queue: Queue,
    /// Finished runs not yet copied to the history items (see [`runs`]).
    pub runs: std::collections::BTreeMap<String, String>,
}

/// The waiting line, kept in the lease item (DESIGN §4 leaves the way of
/// waiting open; issue #6 asks for first come, first served).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queue {
    pub next_ticket: Option<u64>,
    pub serving: Option<u64>,
    /// By ticket: the waiters that are in line now.
    pub waiters: std::collections::BTreeMap<u64, Waiter>,
}

impl Queue {
    /// No ticket handed out that has not been served or skipped.
    pub fn is_empty(&self) -> bool {
        self.next_ticket.unwrap_or(0) <= self.serving.unwrap_or(0)
    }

    /// No waiter holds a ticket in line (`serving..next_ticket`): the line
    /// is empty, or holds only tickets nobody holds any more (a waiter that
    /// left, an acquisition taken back), which `advance` may pass.
    pub fn nobody_in_line(&self) -> bool {
        let (serving, next) = (self.serving.unwrap_or(0), self.next_ticket.unwrap_or(0));
        serving >= next || self.waiters.range(serving..next).next().is_none()
    }

    /// The first ticket in line at or after `from`, if any waiter is queued.
    pub fn first_from(&self, from: u64) -> Option<u64> {
        self.waiters.range(from..).next().map(|(t, _)| *t)
    }
}

/// A waiter in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiter {
    /// Changed by every poll of the waiter: its heartbeat.
    pub beat: String,
    /// The owner token the waiter will hold: how it recognises its own
    /// entry after an answer was lost.
    pub token: String,
    pub who: String,
    pub pid: u32,
    pub operation: String,
    pub since: Option<DateTime<Utc>>,
    /// The waiter's lease: how long it may stay silent before it is dead.
    pub lease: Option<Duration>,
}

pub fn waiter_attr(ticket: u64) -> String {
    format!("{}{ticket}", attr::WAITER_PREFIX)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Garbled(pub String);

type Item = HashMap<String, AttributeValue>;

impl LeaseRecord {
    pub fn is_held(&self) -> bool {
        self.state == LeaseState::Held
    }

    /// "alice@laptop (apply, pid 4242)".
    pub fn describe_holder(&self) -> String {
        format!("{} ({}, pid {})", self.holder, self.operation, self.pid)
    }

    pub fn from_item(item: &Item) -> Result<LeaseRecord, Garbled> {
        let l = match item.get(attr::LEASE) {
            Some(AttributeValue::M(l)) => l,
            Some(_) => return Err(Garbled(format!("attribute {} is not a map", attr::LEASE))),
            // The first format kept the lease at the top of the item.
            None if item.contains_key("tflock") => {
                return Err(Garbled(
                    "it is in the format of an older tflock (lease-v1): once nothing runs under it, delete the item (its fence then starts again at 1)".into(),
                ));
            }
            None => return Err(Garbled("it has no tflock format marker".into())),
        };
        let field = attr::field;
        match l.get(field(attr::FORMAT)).map(|v| v.as_s()) {
            Some(Ok(f)) if f == FORMAT_V2 => {}
            Some(Ok(f)) => return Err(Garbled(format!("unknown format {f:?} (a newer tflock?)"))),
            Some(Err(_)) => {
                return Err(Garbled(format!(
                    "attribute {} is not a string",
                    attr::FORMAT
                )));
            }
            None => return Err(Garbled("it has no tflock format marker".into())),
        }
        let state = match req_s(l, field(attr::STATE))? {
            STATE_HELD => LeaseState::Held,
            STATE_RELEASED => LeaseState::Released,
            other => return Err(Garbled(format!("unknown state {other:?}"))),
        };
        let h = match l.get(field(attr::HOLDER)) {
            None => return Err(Garbled(format!("attribute {} is missing", attr::HOLDER))),
            Some(v) => v
                .as_m()
                .map_err(|_| Garbled(format!("attribute {} is not a map", attr::HOLDER)))?,
        };
        let lease_ms = req_n(h, holder::LEASE_MS)?;
        if lease_ms == 0 {
            return Err(Garbled(format!("{} is zero", holder::LEASE_MS)));
        }
        let lease = Duration::from_millis(lease_ms);
        let pid = req_n(h, holder::PID)?;
        let expires_at = opt_time(l, field(attr::EXPIRES_AT))?;
        let released = l.get(field(attr::RELEASED)).and_then(|v| v.as_m().ok());
        Ok(LeaseRecord {
            state,
            owner_token: req_s(l, field(attr::OWNER))?.to_string(),
            rvn: req_s(l, field(attr::RVN))?.to_string(),
            fence: req_n(item, attr::FENCE)?,
            lease,
            holder: shown(req_s(h, holder::WHO)?),
            host: shown(req_s(h, holder::HOST)?),
            pid: u32::try_from(pid).map_err(|_| Garbled(format!("pid {pid} out of range")))?,
            process: opt_s(h, holder::PROCESS)?,
            operation: shown(req_s(h, holder::OPERATION)?),
            command: shown(&opt_s(h, holder::COMMAND)?.unwrap_or_default()),
            ci_url: opt_s(h, holder::CI_URL)?.as_deref().map(shown),
            acquired_at: req_time(h, holder::ACQUIRED_AT)?,
            // The last renewal set the expiry one lease ahead.
            renewed_at: expires_at.map(|e| e - crate::duration::to_chrono(lease)),
            expires_at,
            released_at: released.map(|m| opt_time(m, "at")).transpose()?.flatten(),
            released_by: released
                .map(|m| opt_s(m, "by"))
                .transpose()?
                .flatten()
                .as_deref()
                .map(shown),
            terraform_lock_id: opt_s(l, field(attr::TERRAFORM_LOCK_ID))?,
            command_process: opt_s(l, field(attr::COMMAND_PROCESS))?,
            // Advisory: one that does not parse is as good as none.
            state_seen: item
                .get(attr::STATE_SEEN)
                .and_then(crate::state::Seen::from_attribute),
            // Advisory too: only ever compared with a mark just made.
            last_forced: opt_s(item, attr::LAST_FORCED).ok().flatten(),
            ticket: opt_n(l, field(attr::TICKET))?,
            queue: Queue {
                next_ticket: opt_n(item, attr::NEXT_TICKET)?,
                serving: opt_n(item, attr::SERVING)?,
                waiters: waiters(item)?,
            },
            runs: runs(item),
        })
    }
}

/// How many run records a lease item keeps, at most: one slot each.
pub const RUN_SLOTS: u64 = 4;

/// The slot a run's record goes into. A release that finds it taken (by the
/// record of the run `RUN_SLOTS` fences back, not yet copied) is refused:
/// so back-to-back short runs pay one copy every few runs, and the item,
/// which every waiter's poll reads, stays small. A fixed name needs no map
/// made beforehand and no count in the condition, both of which cost every
/// run time (in the emulator) for nothing.
pub fn run_slot(fence: u64) -> String {
    format!("{}{}", attr::RUN_SLOT_PREFIX, fence % RUN_SLOTS)
}

/// Finished runs waiting in the lease item: the attribute path of each
/// (what a release removes once it is copied) and its JSON, as the history
/// keeps it; from the slots and from an earlier build's `runs` map.
/// Advisory: a value that is not a string is skipped, never a reason to
/// refuse the lease.
pub fn runs(item: &Item) -> std::collections::BTreeMap<String, String> {
    let slots = (0..RUN_SLOTS).filter_map(|k| {
        let path = run_slot(k);
        let json = item.get(&path)?.as_s().ok()?.clone();
        Some((path, json))
    });
    // Only entries under a fence, as tflock wrote them: another key (with
    // a dot, or empty) would make a path the release cannot name, and what
    // is not ours to vouch for is never copied or removed.
    let legacy = match item.get(attr::RUNS) {
        Some(AttributeValue::M(map)) => map
            .iter()
            .filter_map(|(fence, json)| {
                let fence: u64 = fence.parse().ok()?;
                Some((format!("{}.{fence}", attr::RUNS), json.as_s().ok()?.clone()))
            })
            .collect(),
        _ => Vec::new(),
    };
    slots.chain(legacy).collect()
}

/// Text from the table as it may be shown: control characters escaped.
/// Anyone who may write the table could otherwise put a line break and a
/// `::command::` of GitHub Actions (or a terminal escape) into the logs of
/// whoever runs `status`, waits on the lock, or reads its history.
pub fn shown(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn req_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, Garbled> {
    match item.get(name) {
        None => Err(Garbled(format!("attribute {name} is missing"))),
        Some(v) => v
            .as_s()
            .map(String::as_str)
            .map_err(|_| Garbled(format!("attribute {name} is not a string"))),
    }
}

fn opt_s(item: &Item, name: &str) -> Result<Option<String>, Garbled> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(_) => req_s(item, name).map(|s| Some(s.to_string())),
    }
}

fn req_n(item: &Item, name: &str) -> Result<u64, Garbled> {
    let v = item
        .get(name)
        .ok_or_else(|| Garbled(format!("attribute {name} is missing")))?;
    let n = v
        .as_n()
        .map_err(|_| Garbled(format!("attribute {name} is not a number")))?;
    n.parse().map_err(|_| {
        Garbled(format!(
            "attribute {name} = {:.40} is not a whole number in range",
            shown(n)
        ))
    })
}

fn opt_n(item: &Item, name: &str) -> Result<Option<u64>, Garbled> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(_) => req_n(item, name).map(Some),
    }
}

/// The `wait_<ticket>` attributes. A waiter entry that does not parse is
/// garbled like any other part of the item.
fn waiters(item: &Item) -> Result<std::collections::BTreeMap<u64, Waiter>, Garbled> {
    let mut out = std::collections::BTreeMap::new();
    for (name, value) in item {
        let Some(ticket) = name.strip_prefix(attr::WAITER_PREFIX) else {
            continue;
        };
        let ticket: u64 = ticket
            .parse()
            .map_err(|_| Garbled(format!("attribute {name} is not a waiter")))?;
        let map = value
            .as_m()
            .map_err(|_| Garbled(format!("attribute {name} is not a map")))?;
        out.insert(
            ticket,
            Waiter {
                beat: req_s(map, "beat")?.to_string(),
                token: opt_s(map, "token")?.unwrap_or_default(),
                who: shown(&opt_s(map, "who")?.unwrap_or_default()),
                pid: opt_n(map, "pid")?
                    .and_then(|p| u32::try_from(p).ok())
                    .unwrap_or(0),
                operation: shown(&opt_s(map, "operation")?.unwrap_or_default()),
                lease: opt_n(map, "lease_ms")?.map(Duration::from_millis),
                since: opt_time(map, "since")?,
            },
        );
    }
    Ok(out)
}

fn parse_time(name: &str, s: &str) -> Result<DateTime<Utc>, Garbled> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Garbled(format!(
                "attribute {name} = {:.40} is not an RFC 3339 time",
                shown(s)
            ))
        })
}

fn req_time(item: &Item, name: &str) -> Result<DateTime<Utc>, Garbled> {
    parse_time(name, req_s(item, name)?)
}

fn opt_time(item: &Item, name: &str) -> Result<Option<DateTime<Utc>>, Garbled> {
    opt_s(item, name)?.map(|s| parse_time(name, &s)).transpose()
}

/// terraform's own lock item (`LockID = <bucket>/<path>`), whose `Info`
/// attribute holds terraform's LockInfo as JSON.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct TerraformLock {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(rename = "Operation", default)]
    pub operation: String,
    #[serde(rename = "Info", default)]
    pub info: String,
    #[serde(rename = "Who", default)]
    pub who: String,
    #[serde(rename = "Version", default)]
    pub version: String,
    #[serde(rename = "Created", default)]
    pub created: String,
    #[serde(rename = "Path", default)]
    pub path: String,
    /// The item's key (`LockID`).
    #[serde(skip)]
    pub path_key: String,
    /// The `Info` attribute exactly as read: deletion is conditional on it.
    #[serde(skip)]
    pub raw_info: Option<String>,
}

impl TerraformLock {
    /// Parses terraform's item. An item without a readable `Info` (written by
    /// something else) is still a lock: it is reported with what is known.
    pub fn from_item(item: &Item) -> TerraformLock {
        let key = item
            .get(attr::KEY)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default();
        let raw_info = item.get("Info").and_then(|v| v.as_s().ok()).cloned();
        TerraformLock::from_info(&key, raw_info)
    }

    /// Parses terraform's LockInfo JSON (the DynamoDB item's `Info`, or the
    /// body of an S3 lockfile) found at `key`.
    pub fn from_info(key: &str, raw_info: Option<String>) -> TerraformLock {
        let parsed: Option<TerraformLock> = raw_info
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok());
        let mut lock = parsed.unwrap_or_else(|| TerraformLock {
            id: String::new(),
            operation: String::new(),
            info: "(no readable lock information)".into(),
            who: String::new(),
            version: String::new(),
            created: String::new(),
            path: key.to_string(),
            path_key: String::new(),
            raw_info: None,
        });
        lock.path_key = key.to_string();
        lock.raw_info = raw_info;
        lock
    }

    /// "ID OperationTypeApply by who@host since TIME", as shown.
    pub fn summary(&self) -> String {
        shown(&format!(
            "{} {} by {} since {}",
            self.id, self.operation, self.who, self.created
        ))
    }

    /// The time terraform took it, if readable.
    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.created)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// Whether this terraform lock was taken by the run holding `lease`:
    /// its ID was recorded by that run's heartbeat, or it was taken by the
    /// same `user@host` after the lease was acquired (same machine, same clock).
    pub fn attributable_to(&self, lease: &LeaseRecord) -> bool {
        if let Some(id) = &lease.terraform_lock_id {
            return !self.id.is_empty() && &self.id == id;
        }
        // Not recorded (the holder died before its first renewal): taken by
        // the same user@host while the holder's lease ran. Both times are
        // that machine's clock. A terraform started after the lease had
        // expired (a plain run while the lock was stuck) is not the holder's.
        let until = lease.expires_at.unwrap_or(
            lease.acquired_at + chrono::Duration::from_std(lease.lease).unwrap_or_default(),
        );
        // The lease's holder is kept as shown (control characters
        // escaped): compare terraform's `Who` the same way.
        shown(&self.who) == lease.holder
            && self.created_at().is_some_and(|c| {
                c >= lease.acquired_at - chrono::Duration::seconds(1)
                    && c <= until + chrono::Duration::seconds(1)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_records_are_read_from_their_slots_and_an_earlier_builds_fences() {
        let s = |v: &str| AttributeValue::S(v.to_string());
        let item: Item = HashMap::from([
            ("run_1".to_string(), s("one")),
            ("run_2".to_string(), AttributeValue::N("2".into())),
            ("run_7".to_string(), s("not a slot")),
            (
                attr::RUNS.to_string(),
                AttributeValue::M(HashMap::from([
                    ("8".to_string(), s("eight")),
                    ("x.y".to_string(), s("not ours")),
                    (String::new(), s("not ours")),
                ])),
            ),
        ]);
        let runs: Vec<(String, String)> = runs(&item).into_iter().collect();
        assert_eq!(
            runs,
            [
                ("run_1".to_string(), "one".to_string()),
                ("runs.8".to_string(), "eight".to_string())
            ]
        );
        assert_eq!(run_slot(9), "run_1");
    }

    #[test]
    fn the_line_is_empty_when_no_waiter_holds_a_ticket_in_it() {
        let waiter = Waiter {
            beat: "b".into(),
            token: "t".into(),
            who: "w@h".into(),
            pid: 1,
            operation: "apply".into(),
            since: None,
            lease: None,
        };
        let queue = |serving: u64, next: u64, tickets: &[u64]| Queue {
            next_ticket: Some(next),
            serving: Some(serving),
            waiters: tickets.iter().map(|t| (*t, waiter.clone())).collect(),
        };
        assert!(Queue::default().nobody_in_line());
        assert!(queue(3, 3, &[]).nobody_in_line());
        // Tickets 3 and 4 handed out, nobody holds them (left, taken back).
        assert!(queue(3, 5, &[]).nobody_in_line());
        assert!(!queue(3, 5, &[]).is_empty());
        // Entries left behind below the turn (passed over) do not count.
        assert!(queue(3, 5, &[1]).nobody_in_line());
        assert!(!queue(3, 5, &[4]).nobody_in_line());
        // A turn past the next ticket (never written so; read defensively).
        assert!(queue(6, 5, &[4]).nobody_in_line());
    }

    pub fn sample() -> Item {
        let s = |v: &str| AttributeValue::S(v.to_string());
        let n = |v: &str| AttributeValue::N(v.to_string());
        let holder_map = HashMap::from([
            (holder::WHO.to_string(), s("alice@laptop")),
            (holder::HOST.to_string(), s("laptop")),
            (holder::PID.to_string(), n("4242")),
            (holder::OPERATION.to_string(), s("apply")),
            (holder::COMMAND.to_string(), s("terraform apply")),
            (
                holder::ACQUIRED_AT.to_string(),
                s("2026-11-26T10:00:00.000Z"),
            ),
            (holder::LEASE_MS.to_string(), n("30000")),
        ]);
        let mut item = HashMap::from([
            (attr::KEY.to_string(), s("tflock:b/k")),
            (attr::FENCE.to_string(), n("7")),
            (attr::LEASE.to_string(), AttributeValue::M(HashMap::new())),
        ]);
        for (path, value) in [
            (attr::FORMAT, s(FORMAT_V2)),
            (attr::STATE, s(STATE_HELD)),
            (attr::OWNER, s("tok")),
            (attr::RVN, s("rvn")),
            (attr::HOLDER, AttributeValue::M(holder_map)),
            (attr::EXPIRES_AT, s("2026-11-26T10:00:30.000Z")),
        ] {
            put(&mut item, path, Some(value));
        }
        item
    }

    /// Sets (or with `None` removes) an attribute, or a field of the lease
    /// map when `path` is one.
    fn put(item: &mut Item, path: &str, value: Option<AttributeValue>) {
        let map = if attr::field(path) == path {
            item
        } else {
            let Some(AttributeValue::M(l)) = item.get_mut(attr::LEASE) else {
                unreachable!()
            };
            l
        };
        let name = attr::field(path).to_string();
        match value {
            Some(v) => map.insert(name, v),
            None => map.remove(&name),
        };
    }

    #[test]
    fn text_from_the_table_is_shown_on_one_line() {
        let injected = "terraform apply\n::error::pwned\u{1b}[2J";
        let item = with_holder_field(holder::COMMAND, Some(AttributeValue::S(injected.into())));
        let r = LeaseRecord::from_item(&item).unwrap();
        assert_eq!(r.command, "terraform apply\\n::error::pwned\\u{1b}[2J");
        assert!(!r.command.chars().any(char::is_control));
        assert_eq!(shown("plain text, ünïcode"), "plain text, ünïcode");
        let item = with_holder_field(holder::ACQUIRED_AT, Some(AttributeValue::S("x\ny".into())));
        let err = LeaseRecord::from_item(&item).unwrap_err().to_string();
        assert!(!err.contains('\n'), "{err}");
    }

    /// The sample with one holder field replaced (`None`: removed).
    fn with_holder_field(name: &str, value: Option<AttributeValue>) -> Item {
        let mut item = sample();
        let Some(AttributeValue::M(l)) = item.get_mut(attr::LEASE) else {
            unreachable!()
        };
        let Some(AttributeValue::M(h)) = l.get_mut(attr::field(attr::HOLDER)) else {
            unreachable!()
        };
        match value {
            Some(v) => h.insert(name.to_string(), v),
            None => h.remove(name),
        };
        item
    }

    #[test]
    fn an_item_of_the_first_format_is_named_as_such() {
        let item = HashMap::from([
            (
                attr::KEY.to_string(),
                AttributeValue::S("tflock:b/k".into()),
            ),
            ("tflock".to_string(), AttributeValue::S("lease-v1".into())),
            ("state".to_string(), AttributeValue::S(STATE_HELD.into())),
        ]);
        let err = LeaseRecord::from_item(&item).unwrap_err().to_string();
        assert!(err.contains("older tflock (lease-v1)"), "{err}");
        let mut lease = sample();
        lease.insert(attr::LEASE.to_string(), AttributeValue::S("x".into()));
        let err = LeaseRecord::from_item(&lease).unwrap_err().to_string();
        assert!(err.contains("lease is not a map"), "{err}");
    }

    #[test]
    fn parses_a_well_formed_item() {
        let r = LeaseRecord::from_item(&sample()).unwrap();
        assert!(r.is_held());
        assert_eq!(
            (r.fence, r.pid, r.lease),
            (7, 4242, Duration::from_secs(30))
        );
        assert_eq!(r.describe_holder(), "alice@laptop (apply, pid 4242)");
        assert_eq!(r.ci_url, None);
    }

    #[test]
    fn rejects_garbled_items_with_a_reason() {
        let cases: Vec<(&str, Option<AttributeValue>, &str)> = vec![
            (attr::FORMAT, None, "format marker"),
            (
                attr::FORMAT,
                Some(AttributeValue::S("lease-v9".into())),
                "unknown format",
            ),
            (
                attr::STATE,
                Some(AttributeValue::S("maybe".into())),
                "unknown state",
            ),
            (attr::OWNER, None, "owner_token is missing"),
            (
                attr::FENCE,
                Some(AttributeValue::S("7".into())),
                "fence is not a number",
            ),
            (
                attr::FENCE,
                Some(AttributeValue::N("-1".into())),
                "not a whole number",
            ),
            (
                attr::FENCE,
                Some(AttributeValue::N("1e400".into())),
                "not a whole number",
            ),
            (attr::HOLDER, None, "holder is missing"),
            (
                attr::HOLDER,
                Some(AttributeValue::S("alice".into())),
                "holder is not a map",
            ),
            (
                attr::EXPIRES_AT,
                Some(AttributeValue::S("soon".into())),
                "RFC 3339",
            ),
        ];
        for (name, value, expect) in cases {
            let mut item = sample();
            put(&mut item, name, value);
            let err = LeaseRecord::from_item(&item).unwrap_err().to_string();
            assert!(err.contains(expect), "{name}: {err}");
        }
        let holder_cases: Vec<(&str, Option<AttributeValue>, &str)> = vec![
            (
                holder::LEASE_MS,
                Some(AttributeValue::N("0".into())),
                "is zero",
            ),
            (
                holder::PID,
                Some(AttributeValue::N("99999999999".into())),
                "out of range",
            ),
            (
                holder::ACQUIRED_AT,
                Some(AttributeValue::S("yesterday".into())),
                "RFC 3339",
            ),
            (
                holder::WHO,
                Some(AttributeValue::Bool(true)),
                "who is not a string",
            ),
            (holder::OPERATION, None, "operation is missing"),
        ];
        for (name, value, expect) in holder_cases {
            let err = LeaseRecord::from_item(&with_holder_field(name, value))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expect), "{name}: {err}");
        }
    }

    #[test]
    fn a_holder_whose_command_still_runs_is_alive_to_anyone_here() {
        // The holder's tflock is gone and its command's environment is not
        // read (another user's, say): the process its first renewal
        // recorded, pid and start time, still proves it alive.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let mut lease = LeaseRecord::from_item(&sample()).unwrap();
        lease.host = crate::holder::host_name();
        lease.pid = 0;
        lease.owner_token = "no-process-has-this-token".into();
        let alive = |process: Option<String>| {
            let lease = LeaseRecord {
                command_process: process,
                ..lease.clone()
            };
            crate::lock::observe::life_here(&lease).map(|life| life.why().to_string())
        };
        let recorded = crate::process::describe(child.id());
        assert!(
            alive(Some(recorded.clone()))
                .is_some_and(|why| why.contains(&format!("its command (pid {})", child.id()))),
            "{recorded}"
        );
        // The same pid started at another time: a reused pid, not it.
        let (pid, identity) = recorded.split_once(' ').unwrap();
        let (rest, _start) = identity.rsplit_once(' ').unwrap();
        assert_eq!(alive(Some(format!("{pid} {rest} 1"))), None);
        assert_eq!(alive(Some("garbled".into())), None);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(alive(Some(recorded)), None);
        assert_eq!(alive(None), None);
    }

    #[test]
    fn a_holder_in_another_boot_or_pid_namespace_cannot_be_judged_here() {
        let host = crate::holder::host_name();
        let mut lease = LeaseRecord::from_item(&sample()).unwrap();
        lease.host = host.clone();
        let lock = TerraformLock {
            id: "x".into(),
            operation: "OperationTypeApply".into(),
            info: String::new(),
            who: format!("alice@{host}"),
            version: "1.11.4".into(),
            created: chrono::Utc::now().to_rfc3339(),
            path: "b/k".into(),
            path_key: "b/k".into(),
            raw_info: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let ours = crate::process::identity();
        let ours: Vec<&str> = ours.split(' ').collect();
        let judge = |process: Option<String>| {
            let lease = LeaseRecord {
                process,
                ..lease.clone()
            };
            crate::lock::observe::plain_terraform_here(&lock, &lease, dir.path())
        };
        let said = |process: Option<String>| judge(process).unwrap_or_default();
        assert!(said(Some(format!("another-boot {} 1", ours[1]))).contains("another boot"));
        assert!(said(Some(format!("{} pid:[1] 1", ours[0]))).contains("another pid namespace"));
        assert!(said(None).contains("does not say"));
        // Ours: nothing runs in that directory.
        assert_eq!(judge(Some(format!("{} {} 1", ours[0], ours[1]))), None);
        // Taken on another machine: not ours to judge.
        let elsewhere = TerraformLock {
            who: "alice@elsewhere".into(),
            ..lock.clone()
        };
        let lease_here = LeaseRecord {
            process: None,
            ..lease.clone()
        };
        assert_eq!(
            crate::lock::observe::plain_terraform_here(&elsewhere, &lease_here, dir.path()),
            None
        );
    }

    #[test]
    fn terraform_locks_are_attributed_only_to_their_holder() {
        let lease = LeaseRecord::from_item(&sample()).unwrap();
        let lock = |who: &str, created: &str, id: &str| TerraformLock {
            id: id.into(),
            operation: "OperationTypeApply".into(),
            info: String::new(),
            who: who.into(),
            version: "1.11.4".into(),
            created: created.into(),
            path: "b/k".into(),
            path_key: "b/k".into(),
            raw_info: None,
        };
        // Taken by the holder during its lease (acquired 10:00:00, expires 10:00:30).
        assert!(lock("alice@laptop", "2026-11-26T10:00:01Z", "x").attributable_to(&lease));
        // Someone else, or before the lease, or after it had expired (a
        // plain terraform run while the lock was stuck).
        assert!(!lock("bob@laptop", "2026-11-26T10:00:01Z", "x").attributable_to(&lease));
        assert!(!lock("alice@laptop", "2026-11-26T09:59:00Z", "x").attributable_to(&lease));
        assert!(!lock("alice@laptop", "2026-11-26T10:05:00Z", "x").attributable_to(&lease));
        // A recorded ID decides alone.
        let mut recorded = lease.clone();
        recorded.terraform_lock_id = Some("abc".into());
        assert!(lock("anyone@else", "2000-01-01T00:00:00Z", "abc").attributable_to(&recorded));
        assert!(!lock("alice@laptop", "2026-11-26T10:00:01Z", "x").attributable_to(&recorded));
    }

    #[test]
    fn terraform_lock_info_is_parsed_or_reported() {
        let info = r#"{"ID":"386e","Operation":"OperationTypeApply","Info":"","Who":"root@vm","Version":"1.11.4","Created":"2026-11-26T12:33:49.675688654Z","Path":"state/app/terraform.tfstate"}"#;
        let item = HashMap::from([
            (
                "LockID".to_string(),
                AttributeValue::S("state/app/terraform.tfstate".into()),
            ),
            ("Info".to_string(), AttributeValue::S(info.into())),
        ]);
        let lock = TerraformLock::from_item(&item);
        assert_eq!((lock.id.as_str(), lock.who.as_str()), ("386e", "root@vm"));
        let item = HashMap::from([("LockID".to_string(), AttributeValue::S("x/y".into()))]);
        assert_eq!(TerraformLock::from_item(&item).path, "x/y");
    }
}
