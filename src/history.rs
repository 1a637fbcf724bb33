//! The lock history: every acquisition (with its wait and hold), every wait
//! given up, lease loss, takeover and force-unlock, kept in the lock table
//! itself with a TTL (DESIGN §6 audit records; issue #3 history and stats).
//!
//! Storage: one item per lock and UTC hour, `LockID =
//! "tflock-history:<lock key>@<YYYY-MM-DDTHH>"`, holding the hour's events
//! as a list of JSON strings appended with `list_append` (one write, no
//! read). An hour, not a day: an item holds at most 400 KB, 650 to 1,600
//! run records. An hour with more goes on in parts, `…@<hour>+1`, `+2`: an
//! append refused because the item is full goes to the next part (which
//! costs each later append of that hour one refused request per full part).
//! Reading one lock's history is batched reads of its hour items (100 keys a
//! request: 7 days is 2 requests) and its lease item, then of the next part
//! of any item big enough to have one; `--all` scans for the prefix. The TTL
//! attribute `gc_at` expires an item after the retention period (default 90
//! days).
//!
//! A run's own record costs no request: its release writes it into the lease
//! item (slot `run_<fence mod 4>`, the same JSON), and a later holder copies
//! such records to their hour items, then removes them with its own release:
//! while its command runs when it runs for a while ([`Copy`]), or when its
//! record's slot is taken (a release refused as `Full`). Readers take both,
//! and a record found twice (copied, but its removal did not land) once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use chrono::{DateTime, DurationRound, Utc};
use serde::{Deserialize, Serialize};

use crate::aws::{self, Dynamo};
use crate::error::Error;
use crate::lock::LeaseTable;
use crate::lock::record::attr;

pub const PREFIX: &str = "tflock-history:";
pub const FORMAT: &str = "history-v1";
/// The attribute naming a history item's format.
const FORMAT_ATTR: &str = "tflock";
/// How long a command must run before its holder copies the run records the
/// lease item holds (see [`Copy`]). Longer than the commands a handoff is
/// usually timed with, shorter than a terraform plan: a copy still under way
/// when the command ends delays the release, and the next in line with it.
pub const COPY_AFTER: Duration = Duration::from_secs(5);
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(90 * 86_400);
const EVENTS: &str = "events";
/// A history write must never hold up the run it records.
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);
/// Parts an hour may have (the first is the hour's own item): 16 full
/// items hold 10,000 to 25,000 run records (250 to 600 bytes each), one
/// every 0.15 to 0.35 s for an hour.
const MAX_PARTS: u32 = 16;
/// The most an event takes (JSON): longer free text is clipped.
const MAX_EVENT_BYTES: usize = 8 * 1024;
/// An item whose events take this much may have a next part. An append
/// goes to the next part only when the item could not take it: on
/// DynamoDB (400 KB an item) when the item held more than 400 KB less the
/// append (at most 8 records of at most [`MAX_EVENT_BYTES`]); moto refuses
/// a `list_append` once the list holds about 200 KB (it counts the old list
/// beside the new one). Both are well above this: a lower figure only costs
/// a key asked for in vain, for an hour of more than about 200 runs.
const MAY_HAVE_NEXT_PART: usize = 128_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A guarded run: acquired (perhaps after waiting), ran, released.
    Run,
    /// A wait that ended without the lock (timeout or interrupt).
    Wait,
    /// A stale lease taken over by a waiter with `--takeover-stale`.
    Takeover,
    /// `tflock force-unlock`, verified or not.
    ForceUnlock,
    /// The state object was written without the lock (seen at acquisition).
    OutsideWrite,
    /// `tflock state ack`: such a write acknowledged.
    StateAck,
}

/// One history event. Optional fields are omitted from the stored JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: Kind,
    pub lock_key: String,
    /// When the event ended (a run: its release).
    pub at: DateTime<Utc>,
    /// `user@host` of whoever acted.
    pub who: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u8>,
    /// run: ok | failed | lease_lost | timed_out; wait: gave_up | interrupted;
    /// force_unlock: verified | unguarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_url: Option<String>,
    /// Takeover / force-unlock: whom the lock was taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_holder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_fence: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What was removed: "lease (fence 7)", "terraform lock 386e…".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// terraform locks a recovery left in place, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
    /// Takeover / verified force-unlock: how long the holder was observed silent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ms: Option<u64>,
    /// The state object before and after (etag, version_id, serial, lineage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_before: Option<HashMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_after: Option<HashMap<String, String>>,
}

impl Event {
    pub fn new(kind: Kind, lock_key: &str, who: &str) -> Event {
        Event {
            kind,
            lock_key: lock_key.to_string(),
            at: Utc::now(),
            who: who.to_string(),
            operation: None,
            fence: None,
            waited_ms: None,
            held_ms: None,
            exit_code: None,
            outcome: None,
            ci_url: None,
            previous_holder: None,
            previous_fence: None,
            reason: None,
            removed: Vec::new(),
            kept: Vec::new(),
            observed_ms: None,
            state_before: None,
            state_after: None,
        }
    }

    pub fn waited(&self) -> Duration {
        Duration::from_millis(self.waited_ms.unwrap_or(0))
    }

    pub fn held(&self) -> Duration {
        Duration::from_millis(self.held_ms.unwrap_or(0))
    }
}

pub fn millis(d: Duration) -> Option<u64> {
    Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[derive(Clone)]
pub struct History {
    dynamo: Dynamo,
    table: String,
    retention: Duration,
}

impl Event {
    /// The event as stored (JSON): what a release writes into the lease item.
    /// Free text (a long command line, a `--reason`) is clipped so that the
    /// event stays under [`MAX_EVENT_BYTES`]: an hour item's parts, and the
    /// readers that find them, rely on that bound.
    pub fn to_json(&self) -> Result<String, Error> {
        let encode = |e: &Event| {
            serde_json::to_string(e)
                .map_err(|e| Error::Internal(format!("cannot encode a history event: {e}")))
        };
        let json = encode(self)?;
        if json.len() <= MAX_EVENT_BYTES {
            return Ok(json);
        }
        // At most about 6.5 KB: a lock key (2 KB at most, a DynamoDB key),
        // these, and the fixed fields.
        let mut clipped = self.clone();
        if let Some(operation) = clipped.operation.as_mut() {
            clip(operation, 512);
        }
        for text in [
            Some(&mut clipped.who),
            clipped.outcome.as_mut(),
            clipped.ci_url.as_mut(),
            clipped.previous_holder.as_mut(),
            clipped.reason.as_mut(),
        ]
        .into_iter()
        .flatten()
        .chain(clipped.removed.iter_mut())
        .chain(clipped.kept.iter_mut())
        {
            clip(text, 256);
        }
        clipped.removed.truncate(4);
        clipped.kept.truncate(2);
        for map in [clipped.state_before.as_mut(), clipped.state_after.as_mut()]
            .into_iter()
            .flatten()
        {
            map.values_mut().for_each(|v| clip(v, 128));
        }
        encode(&clipped)
    }
}

/// Run records being copied from the lease item to the history items by
/// the holder, while its command runs. Only a command that runs for a while
/// ([`COPY_AFTER`]) copies: a short one has its release right behind, which
/// a copy in flight would delay (the emulator answers one request at a time).
pub struct Copy {
    task: tokio::task::JoinHandle<Vec<String>>,
    sending: Arc<AtomicBool>,
}

impl Copy {
    /// The paths of the records now in the history items, which the release
    /// removes from the lease item: none when the copy had not started (it
    /// is cancelled: the records stay for a later holder) or failed. A copy
    /// under way is waited for.
    pub async fn finish(self) -> Vec<String> {
        if !self.sending.load(Ordering::SeqCst) {
            // Cancelled. Had it just started, its writes may land anyway:
            // readers take a record found twice once.
            self.task.abort();
        }
        // Bounded: the release must not wait long behind a slow copy.
        let abort = self.task.abort_handle();
        match tokio::time::timeout(WRITE_TIMEOUT, self.task).await {
            Ok(copied) => copied.unwrap_or_default(),
            Err(_) => {
                abort.abort();
                Vec::new()
            }
        }
    }
}

/// Shortens `text` to at most `max` bytes (on a character boundary), marking
/// the cut.
fn clip(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max - '…'.len_utf8();
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
}

fn bucket_key(lock_key: &str, at: DateTime<Utc>) -> String {
    format!("{PREFIX}{lock_key}@{}", at.format("%Y-%m-%dT%H"))
}

/// The key of part `part` of an hour's item (part 0 is the item itself).
fn part_key(bucket: &str, part: u32) -> String {
    match part {
        0 => bucket.to_string(),
        n => format!("{bucket}+{n}"),
    }
}

/// The key of the part after the history item `key`.
fn next_part_key(key: &str) -> String {
    // The hour follows the last '@' (a lock key may hold '@' too, the hour
    // never does), then "+n" for a part after the first.
    match key.rsplit_once('@').map(|(_, hour)| hour.split_once('+')) {
        Some(Some((_, n))) => {
            let bucket = &key[..key.len() - n.len() - 1];
            part_key(bucket, n.parse::<u32>().unwrap_or(0) + 1)
        }
        _ => part_key(key, 1),
    }
}

/// Whether an item's events are big enough for it to have a next part.
fn may_have_next_part(item: &HashMap<String, AttributeValue>) -> bool {
    let size: usize = item
        .get(EVENTS)
        .and_then(|v| v.as_l().ok())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_s().ok())
        .map(String::len)
        .sum();
    size >= MAY_HAVE_NEXT_PART
}

/// Whether DynamoDB refused a write because the item would exceed its size
/// limit ("Item size to update has exceeded the maximum allowed size").
fn item_full<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    err: &aws_sdk_dynamodb::error::SdkError<E>,
) -> bool {
    err.as_service_error().is_some_and(|e| {
        e.code() == Some("ValidationException")
            && e.message()
                .is_some_and(|m| m.contains("maximum allowed size"))
    })
}

impl History {
    pub fn new(dynamo: Dynamo, table: &str, retention: Duration) -> History {
        History {
            dynamo,
            table: table.to_string(),
            retention,
        }
    }

    /// Appends an event to its hour's item: one conditional-free write (one
    /// more per full part, in an hour of more than 650 to 1,600 records).
    pub async fn record(&self, event: &Event) -> Result<(), Error> {
        let json = event.to_json()?;
        // Bounded as a whole, parts included: some callers hold the lock.
        tokio::time::timeout(
            WRITE_TIMEOUT,
            self.append(&event.lock_key, event.at, vec![json]),
        )
        .await
        .unwrap_or_else(|_| Err(Error::Unavailable("recording history timed out".into())))
    }

    /// Appends events (JSON) to the item of the hour of `at`, or to the
    /// first of its parts that can take them.
    async fn append(
        &self,
        lock_key: &str,
        at: DateTime<Utc>,
        events: Vec<String>,
    ) -> Result<(), Error> {
        // From the end of the item's hour, not the event's time: records
        // copied late must not bring forward the expiry of later ones.
        let hour_end = at.duration_trunc(chrono::Duration::hours(1)).unwrap_or(at)
            + chrono::Duration::hours(1);
        let gc_at = hour_end + crate::duration::to_chrono(self.retention);
        let bucket = bucket_key(lock_key, at);
        let events = AttributeValue::L(events.into_iter().map(AttributeValue::S).collect());
        for part in 0..MAX_PARTS {
            let send = self
                .dynamo
                .client
                .update_item()
                .table_name(&self.table)
                .key(attr::KEY, AttributeValue::S(part_key(&bucket, part)))
                .update_expression(
                    "SET #events = list_append(if_not_exists(#events, :empty), :new), \
                     #format = :format, #lock_key = :lock_key, #gc_at = :gc_at",
                )
                .expression_attribute_names("#events", EVENTS)
                .expression_attribute_names("#format", FORMAT_ATTR)
                .expression_attribute_names("#lock_key", "lock_key")
                .expression_attribute_names("#gc_at", attr::GC_AT)
                .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
                .expression_attribute_values(":new", events.clone())
                .expression_attribute_values(":format", AttributeValue::S(FORMAT.into()))
                .expression_attribute_values(":lock_key", AttributeValue::S(lock_key.to_string()))
                .expression_attribute_values(
                    ":gc_at",
                    AttributeValue::N(gc_at.timestamp().to_string()),
                )
                .send();
            match tokio::time::timeout(WRITE_TIMEOUT, send).await {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(err)) if item_full(&err) => continue,
                Ok(Err(err)) => {
                    return Err(aws::failure(
                        &self.dynamo,
                        &self.table,
                        "record history",
                        &err,
                    ));
                }
                Err(_) => return Err(Error::Unavailable("recording history timed out".into())),
            }
        }
        Err(Error::Unavailable(format!(
            "cannot record history: the {MAX_PARTS} items of {bucket} are full"
        )))
    }

    /// Copies run records (JSON, by path) to their hour items: one write
    /// per hour they fall in (a record that does not parse goes to the
    /// current hour, as it is).
    pub async fn copy(&self, lock_key: &str, runs: &BTreeMap<String, String>) -> Result<(), Error> {
        let mut hours: BTreeMap<String, (DateTime<Utc>, Vec<String>)> = BTreeMap::new();
        for json in runs.values() {
            let at = serde_json::from_str::<Event>(json)
                .map(|e| e.at)
                .unwrap_or_else(|_| Utc::now());
            hours
                .entry(bucket_key(lock_key, at))
                .or_insert_with(|| (at, Vec::new()))
                .1
                .push(json.clone());
        }
        // Bounded as a whole: a release may be waiting for it.
        let all = async {
            for (at, events) in hours.into_values() {
                self.append(lock_key, at, events).await?;
            }
            Ok(())
        };
        tokio::time::timeout(WRITE_TIMEOUT, all)
            .await
            .unwrap_or_else(|_| Err(Error::Unavailable("copying run records timed out".into())))
    }

    /// Starts copying, `after` from now, the run records the lease item
    /// holds (read then) to the history items: see [`Copy`].
    pub fn copy_later(&self, table: &LeaseTable, after: Duration) -> Copy {
        let (history, table) = (self.clone(), table.clone());
        let sending = Arc::new(AtomicBool::new(false));
        let started = sending.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            started.store(true, Ordering::SeqCst);
            let runs = match table.read().await {
                Ok(Some(lease)) => lease.runs,
                _ => return Vec::new(),
            };
            match history.copy(table.lock_key(), &runs).await {
                Ok(()) => runs.into_keys().collect(),
                Err(_) => Vec::new(),
            }
        });
        Copy { task, sending }
    }

    /// Removes a lock's history items around `at` (the hour before, of and
    /// after, with their parts): the drill's scratch lock leaves no history
    /// behind.
    pub async fn forget(&self, lock_key: &str, at: DateTime<Utc>) {
        for hour in [-1, 0, 1] {
            let bucket = bucket_key(lock_key, at + chrono::Duration::hours(hour));
            for part in 0..MAX_PARTS {
                let removed = self
                    .dynamo
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .key(attr::KEY, AttributeValue::S(part_key(&bucket, part)))
                    .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
                    .send()
                    .await;
                // A part follows only a full one.
                let full = removed
                    .is_ok_and(|out| out.attributes.is_some_and(|item| may_have_next_part(&item)));
                if !full {
                    break;
                }
            }
        }
    }

    /// One lock's events since `since`, oldest first.
    pub async fn read(&self, lock_key: &str, since: DateTime<Utc>) -> Result<Vec<Event>, Error> {
        let mut days = Vec::new();
        let now = Utc::now();
        // Nothing older than the retention survives (another writer may keep
        // more than we would, up to a year): do not ask for it.
        let kept = self
            .retention
            .max(std::time::Duration::from_secs(366 * 86_400));
        let oldest = now - crate::duration::to_chrono(kept) - chrono::Duration::days(1);
        let mut hour = since.max(oldest);
        while hour <= now + chrono::Duration::hours(1) {
            days.push(bucket_key(lock_key, hour));
            hour += chrono::Duration::hours(1);
        }
        days.dedup();
        // The lease item too: the runs its releases left there.
        days.insert(0, crate::lock::record::lease_item_key(lock_key));
        let mut items = self.batch_get(lock_key, days).await?;
        // Then the next part of every item that may have one, until none.
        let mut from = 0;
        loop {
            let next: Vec<String> = items[from..]
                .iter()
                .filter(|item| may_have_next_part(item))
                .filter_map(|item| item.get(attr::KEY)?.as_s().ok())
                .map(|key| next_part_key(key))
                .collect();
            if next.is_empty() {
                break;
            }
            from = items.len();
            let parts = self.batch_get(lock_key, next).await?;
            items.extend(parts);
        }
        Ok(sorted_events(&items, since))
    }

    /// The items of `keys` that exist, read consistently, 100 a request.
    async fn batch_get(
        &self,
        lock_key: &str,
        keys: Vec<String>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, Error> {
        let mut items = Vec::new();
        for chunk in keys.chunks(100) {
            let mut keys: Vec<HashMap<String, AttributeValue>> = chunk
                .iter()
                .map(|k| HashMap::from([(attr::KEY.to_string(), AttributeValue::S(k.clone()))]))
                .collect();
            // BatchGetItem may return part of the answer (throttled): ask
            // again for the rest, backing off; never report a part as all.
            for attempt in 0..10u32 {
                if keys.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt.min(5))).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut keys)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| Error::Internal(format!("cannot build a history read: {e}")))?;
                let out = self
                    .dynamo
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| aws::failure(&self.dynamo, &self.table, "read history", &e))?;
                if let Some(found) = out.responses().and_then(|r| r.get(&self.table)) {
                    items.extend(found.iter().cloned());
                }
                if let Some(rest) = out.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                    keys = rest.keys().to_vec();
                }
            }
            if !keys.is_empty() {
                return Err(Error::Unavailable(format!(
                    "reading the history of {lock_key}: DynamoDB left {} of its items unread after 10 tries (throttled?); try again",
                    keys.len()
                )));
            }
        }
        Ok(items)
    }

    /// Every lock's events since `since`, oldest first.
    pub async fn read_all(&self, since: DateTime<Utc>) -> Result<Vec<Event>, Error> {
        // History items and lease items (with their runs not yet copied).
        let items = aws::scan_prefix(&self.dynamo, &self.table, "tflock", true)
            .await
            .map_err(|e| aws::failure(&self.dynamo, &self.table, "read history", &e))?;
        Ok(sorted_events(&items, since))
    }
}

/// Events of the given hour items, and runs of the given lease items, at or
/// after `since`, oldest first. A record found twice (copied from the lease
/// item, whose removal did not land) counts once. Events that do not parse
/// (a newer format) are skipped rather than failing the read.
fn sorted_events(items: &[HashMap<String, AttributeValue>], since: DateTime<Utc>) -> Vec<Event> {
    let mut seen = HashSet::new();
    let mut events: Vec<Event> = items
        .iter()
        .flat_map(|item| {
            let listed = item
                .get(EVENTS)
                .and_then(|v| v.as_l().ok())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_s().ok().cloned());
            let kept = crate::lock::record::runs(item).into_values();
            listed.chain(kept).collect::<Vec<_>>()
        })
        .filter(|json| seen.insert(json.clone()))
        .filter_map(|json| serde_json::from_str::<Event>(&json).ok())
        .filter(|e| e.at >= since)
        .collect();
    events.sort_by_key(|e| e.at);
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_follow_their_hour_whatever_the_lock_key_holds() {
        let at = "2026-11-26T23:10:00Z".parse::<DateTime<Utc>>().unwrap();
        let hour = bucket_key("b/env@prod+1/k", at);
        assert_eq!(hour, "tflock-history:b/env@prod+1/k@2026-11-26T23");
        assert_eq!(part_key(&hour, 0), hour);
        assert_eq!(next_part_key(&hour), format!("{hour}+1"));
        assert_eq!(next_part_key(&part_key(&hour, 1)), format!("{hour}+2"));
        assert_eq!(next_part_key(&part_key(&hour, 15)), format!("{hour}+16"));
    }

    #[test]
    fn long_free_text_is_clipped_to_keep_an_event_small() {
        let mut e = Event::new(Kind::ForceUnlock, &"k".repeat(2048), "ops@host");
        e.reason = Some("é".repeat(100_000));
        e.operation = Some("apply -var x=".repeat(10_000));
        e.removed = vec!["lease".repeat(1000); 100];
        e.kept = vec!["kept".repeat(1000); 100];
        e.state_before = Some(HashMap::from([("etag".to_string(), "e".repeat(9000))]));
        let json = e.to_json().unwrap();
        assert!(json.len() <= MAX_EVENT_BYTES, "{}", json.len());
        let back: Event = serde_json::from_str(&json).unwrap();
        assert!(back.reason.unwrap().ends_with('…'));
        assert_eq!(back.removed.len(), 4);
        // Short text is kept as it is.
        let mut e = Event::new(Kind::Run, "k", "ops@host");
        e.operation = Some("apply".into());
        let back: Event = serde_json::from_str(&e.to_json().unwrap()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn only_an_item_near_its_size_limit_may_have_a_next_part() {
        let item = |sizes: &[usize]| {
            HashMap::from([(
                EVENTS.to_string(),
                AttributeValue::L(
                    sizes
                        .iter()
                        .map(|n| AttributeValue::S("x".repeat(*n)))
                        .collect(),
                ),
            )])
        };
        assert!(!may_have_next_part(&HashMap::new()));
        assert!(!may_have_next_part(&item(&[250; 500])));
        assert!(may_have_next_part(&item(&[250; 520])));
    }

    #[test]
    fn events_round_trip_without_empty_fields() {
        let mut e = Event::new(Kind::Run, "b/k", "alice@laptop");
        e.fence = Some(3);
        e.waited_ms = Some(1500);
        let json = serde_json::to_string(&e).unwrap();
        assert!(
            !json.contains("null") && !json.contains("removed"),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e);
        assert_eq!(e.waited(), Duration::from_millis(1500));
    }

    #[test]
    fn day_items_are_sorted_and_filtered() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let ev = |t: &str| {
            let mut e = Event::new(Kind::Run, "k", "w");
            e.at = at(t);
            AttributeValue::S(serde_json::to_string(&e).unwrap())
        };
        let items = vec![
            HashMap::from([(
                EVENTS.to_string(),
                AttributeValue::L(vec![
                    ev("2026-11-02T10:00:00Z"),
                    AttributeValue::S("{garbage".into()),
                ]),
            )]),
            HashMap::from([(
                EVENTS.to_string(),
                AttributeValue::L(vec![ev("2026-11-01T09:00:00Z"), ev("2026-10-01T00:00:00Z")]),
            )]),
        ];
        let events = sorted_events(&items, at("2026-10-15T00:00:00Z"));
        let times: Vec<_> = events.iter().map(|e| e.at.to_rfc3339()).collect();
        assert_eq!(
            times,
            ["2026-11-01T09:00:00+00:00", "2026-11-02T10:00:00+00:00"]
        );
    }

    #[test]
    fn runs_kept_in_a_lease_item_count_once_beside_their_copies() {
        let run = |fence: u64| {
            let mut e = Event::new(Kind::Run, "k", "w");
            e.fence = Some(fence);
            serde_json::to_string(&e).unwrap()
        };
        let since = Utc::now() - chrono::Duration::hours(1);
        let (one, two, three, four) = (run(1), run(2), run(3), run(4));
        let items = vec![
            HashMap::from([(
                EVENTS.to_string(),
                AttributeValue::L(vec![AttributeValue::S(one), AttributeValue::S(two.clone())]),
            )]),
            // The lease item: run 2 copied but not yet removed, run 3 not
            // copied, run 4 in an earlier build's map.
            HashMap::from([
                ("run_2".to_string(), AttributeValue::S(two)),
                ("run_3".to_string(), AttributeValue::S(three)),
                (
                    attr::RUNS.to_string(),
                    AttributeValue::M(HashMap::from([("4".to_string(), AttributeValue::S(four))])),
                ),
            ]),
        ];
        let mut fences: Vec<_> = sorted_events(&items, since)
            .iter()
            .map(|e| e.fence)
            .collect();
        fences.sort();
        assert_eq!(fences, [Some(1), Some(2), Some(3), Some(4)]);
    }
}
