//! The lease protocol on DynamoDB (DESIGN §4): every write is conditional, and
//! every refusal returns the item as it was, so no decision rests on a second,
//! racy read.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, SecondsFormat, Utc};

use super::record::{self, LeaseRecord, TerraformLock, attr, holder};
use super::update::Expr;
use crate::aws::{self, Dynamo};
use crate::error::Error;
use crate::holder::Holder;

/// How long after its wall-clock expiry an abandoned lease may be collected
/// by the table's TTL. Long enough that no plausible clock error matters (the
/// expiry comes from the holder's wall clock); a lease is only ever declared
/// dead by observation, never by this. As long as the history's default
/// retention: the item also holds run records not yet copied to the history.
///
/// Set by renewals (and by a takeover), not by an acquisition: a run shorter
/// than a heartbeat never writes it, nor has its release remove it (one
/// clause less in each of a run's two writes). The price: a holder that dies
/// before its first renewal leaves an item no TTL collects (an operator's
/// `force-unlock --verify` or the next `--takeover-stale` still recovers it).
const GC_GRACE: chrono::Duration = chrono::Duration::days(90);

/// A failed call, whether trying again later could help, and whether a
/// write may have been applied despite the failure (its answer lost).
#[derive(Debug)]
pub struct CallError {
    pub error: Error,
    pub transient: bool,
    pub may_have_landed: bool,
}

impl From<Error> for CallError {
    fn from(error: Error) -> Self {
        CallError {
            error,
            transient: false,
            may_have_landed: false,
        }
    }
}

/// What this process holds.
#[derive(Debug, Clone)]
pub struct Lease {
    pub token: String,
    pub rvn: String,
    pub fence: u64,
    pub duration: Duration,
    /// Our ticket in the line: releasing hands `serving` to the next one.
    pub ticket: Option<u64>,
    /// The state object as the previous holder's release left it (when
    /// asked for: see [`LeaseTable::claim`]).
    pub state_seen: Option<Box<crate::state::Seen>>,
    /// Whether the item may carry the TTL attribute for this lease.
    pub gc_at: GcMark,
}

/// Whether the lease item may carry the TTL attribute `gc_at` for a lease:
/// a renewal was sent (landed or not), or a takeover wrote it. Then the
/// release removes it, so that a released lease, and its fence, is never
/// collected. Shared by every copy of the lease: the heartbeat renews its
/// own copy, the caller releases with another.
#[derive(Debug, Clone, Default)]
pub struct GcMark(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl GcMark {
    pub fn new(set: bool) -> GcMark {
        GcMark(std::sync::Arc::new(set.into()))
    }

    pub fn set(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// What a release does with run records (see [`LeaseTable::release`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct Runs<'a> {
    /// This run's history event (fence, JSON), kept in its slot
    /// ([`record::run_slot`]).
    pub add: Option<(u64, &'a str)>,
    /// Records now in the history items (by attribute path, see
    /// [`record::runs`]): removed from the item.
    pub copied: &'a [String],
}

/// What an acquisition may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The fast path: free, and nobody in line.
    Free,
    /// Our turn in line: the lock is free and `serving` is our ticket.
    Turn { ticket: u64 },
    /// A lease proved stale: exactly this owner and RVN, still held. Taken
    /// by the first in line, with its ticket.
    Stale {
        owner_token: String,
        rvn: String,
        ticket: u64,
    },
}

/// The answer to joining the line.
#[derive(Debug)]
pub enum Enqueue {
    Queued(u64),
    /// Someone took that ticket first: the item as it is now.
    Raced(Box<LeaseRecord>),
    /// The lock item is gone (a fresh start: the fast path applies).
    Gone,
}

#[derive(Debug)]
pub enum Acquire {
    Acquired(Lease),
    /// Somebody else holds it: the item as it was when we were refused.
    Held(Box<LeaseRecord>),
}

#[derive(Debug)]
pub enum Renew {
    Renewed,
    /// Still ours, but an earlier renewal had landed with its response lost:
    /// its RVN is adopted and the caller renews again at once.
    Adopted,
    /// The lease is no longer ours (force-unlocked or taken over): the item
    /// as found, if any.
    Lost(Option<Box<LeaseRecord>>),
}

/// What a release does with the remembered state object (`state_seen`).
#[derive(Debug, Clone, Copy)]
pub enum SeenUpdate<'a> {
    /// Leave it as it is (a run refused before it started).
    Keep,
    /// The state as the run left it.
    Set(&'a crate::state::Seen),
    /// Unknown now (not read, or a holder died after writing who knows
    /// what): no baseline for the next run to compare with.
    Forget,
}

/// The answer to a force release.
#[derive(Debug)]
pub enum ForceRelease {
    Released,
    /// The lease was not as observed: the item as it is now, if any.
    Refused(Option<Box<LeaseRecord>>),
}

impl ForceRelease {
    /// Why a refusal happened, from the item found.
    pub fn why_refused(found: Option<&LeaseRecord>, observed: &LeaseRecord) -> (bool, String) {
        match found {
            None => (
                true,
                "the lease was removed meanwhile: the lock is free".into(),
            ),
            Some(r) if !r.is_held() => (
                true,
                "its holder released it meanwhile: the lock is free".into(),
            ),
            Some(r) if r.owner_token != observed.owner_token => (
                false,
                format!(
                    "the lock changed hands meanwhile: now held by {}",
                    r.describe_holder()
                ),
            ),
            Some(_) => (
                false,
                "a heartbeat landed at the last moment: the holder is alive".into(),
            ),
        }
    }
}

/// What `state ack`'s write found.
#[derive(Debug)]
pub enum Acknowledge {
    Done,
    /// A run holds the lock (it compares the state itself).
    Held(Box<LeaseRecord>),
    /// Taken and released since it was read (or gone): read both again.
    Moved,
}

#[derive(Debug)]
pub enum Release {
    Released,
    /// The item was not ours to release any more.
    NotOurs(Option<Box<LeaseRecord>>),
    /// Still ours, but the run's record did not fit: its slot holds an
    /// earlier record (copy the records to the history: the item as found
    /// carries them, and release again with them in [`Runs::copied`]).
    Full(Box<LeaseRecord>),
}

/// A release by someone other than the holder (force-unlock).
struct Forced<'a> {
    /// The RVN observed stale (`None`: the unguarded path).
    rvn: Option<&'a str>,
    /// Who forced it, recorded in the lease's `released` map.
    by: &'a str,
    /// Random, kept in `last_forced` (see `force_release`).
    mark: &'a str,
}

#[derive(Clone)]
pub struct LeaseTable {
    dynamo: Dynamo,
    table: String,
    lock_key: String,
    item_key: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn new_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn is_conditional_failure(
    err: &SdkError<UpdateItemError>,
) -> Option<Option<&HashMap<String, AttributeValue>>> {
    match err.as_service_error() {
        Some(UpdateItemError::ConditionalCheckFailedException(e)) => Some(e.item()),
        _ => None,
    }
}

impl LeaseTable {
    pub fn new(dynamo: Dynamo, table: &str, lock_key: &str) -> LeaseTable {
        LeaseTable {
            dynamo,
            table: table.to_string(),
            lock_key: lock_key.to_string(),
            item_key: record::lease_item_key(lock_key),
        }
    }

    pub fn lock_key(&self) -> &str {
        &self.lock_key
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn dynamo(&self) -> &Dynamo {
        &self.dynamo
    }

    fn garbled(&self, why: record::Garbled) -> Error {
        Error::config(format!(
            "the lock item {:?} in table {} is not a lease tflock can read ({why}); it was left untouched: \
             inspect it, and remove it by hand if nothing owns it",
            self.item_key, self.table
        ))
    }

    fn parse(&self, item: &HashMap<String, AttributeValue>) -> Result<LeaseRecord, Error> {
        LeaseRecord::from_item(item).map_err(|e| self.garbled(e))
    }

    /// Turns an SDK failure into a [`CallError`], explaining a key-schema
    /// mismatch (DynamoDB only says "The provided key element does not match
    /// the schema") by describing the table.
    async fn call_error<E>(&self, doing: &str, err: SdkError<E>) -> CallError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if let SdkError::ServiceError(se) = &err
            && se.err().code() == Some("ValidationException")
            && se.err().message().is_some_and(|m| m.contains("key"))
            && let Some(schema) = self.describe_key_schema().await
            && schema != super::schema::LOCK_KEY_SCHEMA
        {
            return CallError {
                error: super::schema::wrong_schema(&self.table, &schema),
                transient: false,
                may_have_landed: false,
            };
        }
        CallError {
            transient: !aws::is_permanent(&err),
            may_have_landed: aws::may_have_landed(&err),
            error: aws::failure(&self.dynamo, &self.table, doing, &err),
        }
    }

    /// The item a conditional write was refused on: as the refusal carried
    /// it, or, when the service did not send it (it did not honour
    /// ReturnValuesOnConditionCheckFailure), as it is now. Never taken for
    /// gone without looking.
    async fn as_refused(
        &self,
        item: Option<&HashMap<String, AttributeValue>>,
    ) -> Result<Option<LeaseRecord>, CallError> {
        match item {
            Some(item) => Ok(Some(self.parse(item)?)),
            None => self.read().await,
        }
    }

    async fn describe_key_schema(&self) -> Option<String> {
        let out = self
            .dynamo
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .ok()?;
        out.table().map(super::schema::key_schema)
    }

    /// Acquires: the fast path when the lock is free and nobody is in line
    /// (`Claim::Free`), our turn in line (`Claim::Turn`), or a lease proved
    /// stale by observation (`Claim::Stale`): then conditional on the exact
    /// owner and RVN observed, so a heartbeat landing meanwhile makes the
    /// takeover fail. One conditional write, which raises the fence by one
    /// and installs `token` and a new RVN; a refusal returns the item. When
    /// a retry of ours finds our own token (the first response was lost),
    /// the lease is ours.
    ///
    /// `baseline`: the state guard's baseline (`state_seen`) is wanted. It
    /// comes back with the whole item, which DynamoDB returns at no cost but
    /// the emulator at about 5 ms; without it, only the attributes the write
    /// sets come back (the fence among them).
    pub async fn claim(
        &self,
        holder: &Holder,
        duration: Duration,
        token: &str,
        claim: &Claim,
        baseline: bool,
    ) -> Result<Acquire, CallError> {
        let rvn = new_token();
        let now = Utc::now();
        let expires = now + crate::duration::to_chrono(duration);
        let mut e = Expr::default();
        let key = e.name(attr::KEY);
        let format = e.name(attr::FORMAT);
        let state = e.name(attr::STATE);
        let owner = e.name(attr::OWNER);
        let rvn_name = e.name(attr::RVN);
        let next = e.name(attr::NEXT_TICKET);
        let serving = e.name(attr::SERVING);
        let format_v = e.value("format", s(record::FORMAT_V2));
        let held = e.value("held", s(record::STATE_HELD));
        let mut who = HashMap::from([
            (holder::WHO.to_string(), s(holder.who())),
            (holder::HOST.to_string(), s(&holder.host)),
            (holder::PID.to_string(), n(holder.pid)),
            (holder::PROCESS.to_string(), s(&holder.process)),
            (holder::OPERATION.to_string(), s(&holder.operation)),
            (holder::COMMAND.to_string(), s(&holder.command)),
            (holder::ACQUIRED_AT.to_string(), s(rfc3339(now))),
            (holder::LEASE_MS.to_string(), n(duration.as_millis())),
        ]);
        if let Some(url) = &holder.ci_url {
            who.insert(holder::CI_URL.to_string(), s(url));
        }
        // The whole lease map, replacing the previous holder's (its release
        // mark and terraform lock ID do not survive into ours).
        let mut lease = HashMap::from([
            (attr::field(attr::FORMAT).to_string(), s(record::FORMAT_V2)),
            (attr::field(attr::STATE).to_string(), s(record::STATE_HELD)),
            (attr::field(attr::OWNER).to_string(), s(token)),
            (attr::field(attr::RVN).to_string(), s(&rvn)),
            (
                attr::field(attr::HOLDER).to_string(),
                AttributeValue::M(who),
            ),
            (
                attr::field(attr::EXPIRES_AT).to_string(),
                s(rfc3339(expires)),
            ),
        ]);
        match claim {
            Claim::Free => {}
            Claim::Turn { ticket } | Claim::Stale { ticket, .. } => {
                lease.insert(attr::field(attr::TICKET).to_string(), n(*ticket));
            }
        }
        let (lease_name, lease_v) = (
            e.name(attr::LEASE),
            e.value("lease", AttributeValue::M(lease)),
        );
        let (fence, one) = (e.name(attr::FENCE), e.value("one", n(1)));
        // ADD makes a missing fence 1 and fails on one that is not a number
        // (before anything is written: see `Expr::add`).
        e.add(format!("{fence} {one}"))
            .set(format!("{lease_name} = {lease_v}"));
        match claim {
            Claim::Free => {
                // Free, and nobody in line. No ticket: a waiter who comes
                // while we hold takes ticket `next_ticket`, which is then
                // `serving`, so it is first once we release.
                let released = e.value("released", s(record::STATE_RELEASED));
                e.condition(format!(
                    "attribute_not_exists({key}) OR ({state} = {released} AND {format} = {format_v})"
                ))
                .condition(format!("attribute_not_exists({next}) OR {next} <= {serving}"));
            }
            Claim::Turn { ticket: t } => {
                let released = e.value("released", s(record::STATE_RELEASED));
                let mine = e.value("mine", n(*t));
                let waiter = e.name(&record::waiter_attr(*t));
                e.condition(format!(
                    "{state} = {released} AND {format} = {format_v} AND {serving} = {mine}"
                ))
                .remove(waiter);
            }
            Claim::Stale {
                owner_token,
                rvn: old_rvn,
                ticket: t,
            } => {
                let old_owner = e.value("old_owner", s(owner_token));
                let old_rvn = e.value("old_rvn", s(old_rvn));
                let mine = e.value("mine", n(*t));
                let waiter = e.name(&record::waiter_attr(*t));
                e.condition(format!(
                    "attribute_exists({key}) AND {owner} = {old_owner} AND {rvn_name} = {old_rvn} AND {state} = {held}"
                ))
                .set(format!("{serving} = {mine}"))
                .remove(waiter);
                // What the dead holder wrote is unknown: no baseline.
                let seen = e.name(attr::STATE_SEEN);
                e.remove(seen);
                // Its TTL attribute, if it renewed, becomes ours: set it
                // (the release removes it).
                let (gc_at, gc_at_v) = (
                    e.name(attr::GC_AT),
                    e.value("gc_at", n((expires + GC_GRACE).timestamp())),
                );
                e.set(format!("{gc_at} = {gc_at_v}"));
            }
        }
        let req = self
            .update_lease()
            .return_values(if baseline {
                ReturnValue::AllNew
            } else {
                ReturnValue::UpdatedNew
            })
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let doing = format!("acquire lock {}", self.lock_key);
        match e.to_update(req).send().await {
            Ok(out) => {
                let number = |name: &str| {
                    out.attributes()
                        .and_then(|a| a.get(name))
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                };
                let fence = number(attr::FENCE).ok_or_else(|| {
                    Error::Internal("the acquire response carried no fence".into())
                })?;
                Ok(Acquire::Acquired(Lease {
                    token: token.to_string(),
                    rvn,
                    fence,
                    duration,
                    ticket: match claim {
                        Claim::Free => None,
                        Claim::Turn { ticket } | Claim::Stale { ticket, .. } => Some(*ticket),
                    },
                    gc_at: GcMark::new(matches!(claim, Claim::Stale { .. })),
                    state_seen: out
                        .attributes()
                        .and_then(|a| a.get(attr::STATE_SEEN))
                        .and_then(crate::state::Seen::from_attribute)
                        .map(Box::new),
                }))
            }
            Err(err) => match is_conditional_failure(&err) {
                Some(item) => match self.as_refused(item).await? {
                    Some(found) => Ok(self.judge(found, token, duration)),
                    None => Err(CallError {
                        error: Error::Unavailable(format!(
                            "cannot {doing}: refused, and the lock was gone when read back"
                        )),
                        transient: true,
                        may_have_landed: false,
                    }),
                },
                None => {
                    // A fence that is not a number makes the update itself
                    // invalid: report the item rather than the SDK error.
                    if err.code() == Some("ValidationException")
                        && err.message().is_some_and(|m| m.contains("operand"))
                    {
                        return Err(self
                            .garbled(record::Garbled("its fence is not a number".into()))
                            .into());
                    }
                    Err(self.call_error(&doing, err).await)
                }
            },
        }
    }

    /// Joins the line: takes ticket `expected` (the `next_ticket` last seen;
    /// `None` when the item has no queue yet) and registers as a waiter, in
    /// one write conditional on nobody having taken that ticket meanwhile.
    pub async fn enqueue(
        &self,
        expected: Option<u64>,
        waiter: &Holder,
        lease: Duration,
        token: &str,
        beat: &str,
    ) -> Result<Enqueue, CallError> {
        let mut e = Expr::default();
        let key = e.name(attr::KEY);
        let next = e.name(attr::NEXT_TICKET);
        let serving = e.name(attr::SERVING);
        let mine = expected.unwrap_or(0);
        let entry = AttributeValue::M(HashMap::from([
            ("beat".to_string(), s(beat)),
            ("token".to_string(), s(token)),
            ("who".to_string(), s(waiter.who())),
            ("pid".to_string(), n(waiter.pid)),
            ("operation".to_string(), s(&waiter.operation)),
            // Its lease: those behind it skip it only after this much silence.
            ("lease_ms".to_string(), n(lease.as_millis())),
            ("since".to_string(), s(rfc3339(Utc::now()))),
        ]));
        let waiter_name = e.name(&record::waiter_attr(mine));
        let entry = e.value("entry", entry);
        let after = e.value("after", n(mine + 1));
        match expected {
            Some(t) => {
                let expected = e.value("expected", n(t));
                e.condition(format!("{next} = {expected}"));
            }
            // No line yet (the lock was taken free): it starts here.
            None => {
                let zero = e.value("zero", n(0));
                e.condition(format!(
                    "attribute_exists({key}) AND attribute_not_exists({next})"
                ))
                .set(format!("{serving} = if_not_exists({serving}, {zero})"));
            }
        }
        e.set(format!("{next} = {after}"))
            .set(format!("{waiter_name} = {entry}"));
        let req = self
            .update_lease()
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match e.to_update(req).send().await {
            Ok(_) => Ok(Enqueue::Queued(mine)),
            Err(err) => match is_conditional_failure(&err) {
                Some(Some(item)) => Ok(Enqueue::Raced(Box::new(self.parse(item)?))),
                Some(None) => Ok(Enqueue::Gone),
                None => Err(self
                    .call_error(&format!("wait for lock {}", self.lock_key), err)
                    .await),
            },
        }
    }

    /// A waiter's heartbeat: a new beat in its entry, and the whole item back
    /// (what it watches). `None` when our entry is gone: we were skipped as
    /// dead after a long silence, or the lock item was removed.
    pub async fn beat(&self, ticket: u64, beat: &str) -> Result<Option<LeaseRecord>, CallError> {
        let mut e = Expr::default();
        let waiter = e.name(&record::waiter_attr(ticket));
        let path = e.path(&[&record::waiter_attr(ticket), "beat"]);
        let beat = e.value("beat", s(beat));
        e.condition(format!("attribute_exists({waiter})"))
            .set(format!("{path} = {beat}"));
        let req = self.update_lease().return_values(ReturnValue::AllNew);
        match e.to_update(req).send().await {
            Ok(out) => Ok(out.attributes().map(|a| self.parse(a)).transpose()?),
            Err(err) if is_conditional_failure(&err).is_some() => Ok(None),
            Err(err) => Err(self
                .call_error(&format!("wait for lock {}", self.lock_key), err)
                .await),
        }
    }

    /// Leaves the line (a wait given up). Conditional on our entry being
    /// there: an entry already gone (skipped as dead) needs nothing, and an
    /// unconditional update would recreate a removed item as a bare key.
    pub async fn leave(&self, ticket: u64) -> Result<(), CallError> {
        let mut e = Expr::default();
        let waiter = e.name(&record::waiter_attr(ticket));
        e.condition(format!("attribute_exists({waiter})"))
            .remove(waiter);
        let req = self.update_lease();
        match e.to_update(req).send().await {
            Ok(_) => Ok(()),
            Err(err) if is_conditional_failure(&err).is_some() => Ok(()),
            Err(err) => Err(self
                .call_error(&format!("leave the line for {}", self.lock_key), err)
                .await),
        }
    }

    /// Removes a waiter proved dead by observation (its beat unchanged for a
    /// full lease): conditional on the beat observed.
    pub async fn skip(&self, ticket: u64, observed_beat: &str) -> Result<bool, CallError> {
        let mut e = Expr::default();
        let waiter = e.name(&record::waiter_attr(ticket));
        let path = e.path(&[&record::waiter_attr(ticket), "beat"]);
        let beat = e.value("beat", s(observed_beat));
        e.condition(format!("{path} = {beat}")).remove(waiter);
        let req = self.update_lease();
        match e.to_update(req).send().await {
            Ok(_) => Ok(true),
            Err(err) if is_conditional_failure(&err).is_some() => Ok(false),
            Err(err) => Err(self
                .call_error(&format!("skip a waiter of {}", self.lock_key), err)
                .await),
        }
    }

    /// Moves `serving` past tickets nobody holds any more (waiters who gave
    /// up or were skipped): conditional on the lock being free, `serving`
    /// still at `from`, and no waiter holding any ticket in `from..to`.
    pub async fn advance(&self, from: u64, to: u64) -> Result<bool, CallError> {
        let mut e = Expr::default();
        let state = e.name(attr::STATE);
        let serving = e.name(attr::SERVING);
        let released = e.value("released", s(record::STATE_RELEASED));
        let from_v = e.value("from", n(from));
        let to_v = e.value("to", n(to));
        e.condition(format!("{state} = {released} AND {serving} = {from_v}"));
        for t in from..to {
            let waiter = e.name(&record::waiter_attr(t));
            e.condition(format!("attribute_not_exists({waiter})"));
        }
        e.set(format!("{serving} = {to_v}"));
        let req = self.update_lease();
        match e.to_update(req).send().await {
            Ok(_) => Ok(true),
            Err(err) if is_conditional_failure(&err).is_some() => Ok(false),
            Err(err) => Err(self
                .call_error(&format!("advance the line of {}", self.lock_key), err)
                .await),
        }
    }

    /// A refusal's item: someone else's lease, or ours (an earlier attempt of
    /// this wait landed and its response was lost).
    fn judge(&self, found: LeaseRecord, token: &str, duration: Duration) -> Acquire {
        if found.owner_token == token && found.is_held() {
            return Acquire::Acquired(Lease {
                token: token.to_string(),
                rvn: found.rvn,
                fence: found.fence,
                duration,
                ticket: found.ticket,
                state_seen: found.state_seen.map(Box::new),
                // Which write landed is unknown (a takeover sets it).
                gc_at: GcMark::new(true),
            });
        }
        Acquire::Held(Box::new(found))
    }

    /// Extends the lease: conditional on our token and the RVN we last wrote,
    /// and sets a new RVN (what observers watch to see that we are alive).
    pub async fn renew(
        &self,
        lease: &mut Lease,
        terraform_lock_id: Option<&str>,
        command_process: Option<&str>,
    ) -> Result<Renew, CallError> {
        // Sent, it may land whatever answer comes back.
        lease.gc_at.set();
        let rvn = new_token();
        let now = Utc::now();
        let expires = now + crate::duration::to_chrono(lease.duration);
        let mut e = Expr::default();
        let (owner, token) = (e.name(attr::OWNER), e.value("token", s(&lease.token)));
        let (rvn_name, old_rvn) = (e.name(attr::RVN), e.value("rvn", s(&lease.rvn)));
        let (state, held) = (e.name(attr::STATE), e.value("held", s(record::STATE_HELD)));
        let new_rvn = e.value("new_rvn", s(&rvn));
        let (expires_at, expires_v) = (
            e.name(attr::EXPIRES_AT),
            e.value("expires", s(rfc3339(expires))),
        );
        let (gc_at, gc_at_v) = (
            e.name(attr::GC_AT),
            e.value("gc_at", n((expires + GC_GRACE).timestamp())),
        );
        e.condition(format!(
            "{owner} = {token} AND {rvn_name} = {old_rvn} AND {state} = {held}"
        ))
        .set(format!("{rvn_name} = {new_rvn}"))
        .set(format!("{expires_at} = {expires_v}"))
        .set(format!("{gc_at} = {gc_at_v}"));
        if let Some(id) = terraform_lock_id {
            let (name, value) = (e.name(attr::TERRAFORM_LOCK_ID), e.value("tf_id", s(id)));
            e.set(format!("{name} = {value}"));
        }
        if let Some(process) = command_process {
            let (name, value) = (
                e.name(attr::COMMAND_PROCESS),
                e.value("command_process", s(process)),
            );
            e.set(format!("{name} = {value}"));
        }
        let req = self
            .update_lease()
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match e.to_update(req).send().await {
            Ok(_) => {
                lease.rvn = rvn;
                Ok(Renew::Renewed)
            }
            Err(err) => match is_conditional_failure(&err) {
                Some(item) => {
                    match self.as_refused(item).await? {
                        // Still ours, with an RVN we did not know: an earlier
                        // renewal landed but its response was lost. Adopt it;
                        // the caller renews again at once.
                        Some(r) if r.owner_token == lease.token && r.is_held() => {
                            lease.rvn = r.rvn;
                            Ok(Renew::Adopted)
                        }
                        other => Ok(Renew::Lost(other.map(Box::new))),
                    }
                }
                None => Err(self
                    .call_error(&format!("renew lease {}", self.lock_key), err)
                    .await),
            },
        }
    }

    /// Marks the lease released, keeping the item (and so the fence).
    /// Conditional on our token and on the lease being held (so it works
    /// after a renewal whose response was lost); a refusal that shows this
    /// very release landed (sent again by the SDK) counts as released. Also
    /// the clean-up after an interrupted acquire: with a token that never
    /// landed, it changes nothing.
    ///
    /// `ticket` is the holder's place in line: releasing passes the turn to
    /// the next ticket (`serving = ticket + 1`). `gc_at`: the lease may have
    /// written the TTL attribute ([`Lease::gc_at`]), which goes.
    ///
    /// `seen` is the state object as the run left it, remembered for the next
    /// acquisition to compare with (the state guard).
    ///
    /// `runs`: the run's own history record, written with the release (no
    /// request of its own), and the records this holder copied to the
    /// history items, removed.
    pub async fn release(
        &self,
        token: &str,
        ticket: Option<u64>,
        gc_at: bool,
        seen: SeenUpdate<'_>,
        runs: Runs<'_>,
    ) -> Result<Release, CallError> {
        let found = match self
            .mark_released(token, None, ticket, gc_at, seen, runs)
            .await?
        {
            None => return Ok(Release::Released),
            Some(found) => found,
        };
        Ok(match found {
            // Still ours: the record did not fit (its slot is taken).
            Some(f) if f.owner_token == token && f.is_held() && runs.add.is_some() => {
                Release::Full(f)
            }
            // Released by us already: this very request, sent again by the
            // SDK after an attempt whose answer was lost, landed the first
            // time (a forced release names who forced it).
            Some(f) if f.owner_token == token && !f.is_held() && f.released_by.is_none() => {
                Release::Released
            }
            // The same, and the next holder took the lock before the retry:
            // our run's record is in its slot, which only our release wrote.
            Some(f)
                if runs.add.is_some_and(|(fence, json)| {
                    f.runs.get(&record::run_slot(fence)).map(String::as_str) == Some(json)
                }) =>
            {
                Release::Released
            }
            other => Release::NotOurs(other),
        })
    }

    /// Releases a lease that is not ours, proved stale by observation:
    /// conditional on the owner and RVN observed and on it being held, so a
    /// heartbeat that landed meanwhile makes it fail. Marks it released (the
    /// fence survives), passes the turn on, and records who forced it.
    ///
    /// `exact_rvn: false` is the unguarded path (`force-unlock TOKEN`): only
    /// the owner must match, the holder's liveness is the operator's word.
    pub async fn force_release(
        &self,
        observed: &LeaseRecord,
        by: &str,
        exact_rvn: bool,
    ) -> Result<ForceRelease, CallError> {
        let rvn = exact_rvn.then_some(observed.rvn.as_str());
        // Written with the release, at the top of the item, where the next
        // holder's acquisition leaves it: how this very write is recognised
        // when its answer was lost and the SDK's retry is refused.
        let mark = new_token();
        Ok(
            match self
                // Whatever the dead holder wrote is unknown.
                .mark_released(
                    &observed.owner_token,
                    Some(Forced {
                        rvn,
                        by,
                        mark: &mark,
                    }),
                    observed.ticket,
                    // Whether the holder renewed is unknown.
                    true,
                    SeenUpdate::Forget,
                    Runs::default(),
                )
                .await?
            {
                None => ForceRelease::Released,
                // Released by us already: this very request, sent again by
                // the SDK after an attempt whose answer was lost, landed the
                // first time (its mark is there, even when the next in line
                // has taken the lock since).
                Some(Some(found)) if found.last_forced.as_deref() == Some(mark.as_str()) => {
                    ForceRelease::Released
                }
                Some(found) => ForceRelease::Refused(found),
            },
        )
    }

    /// The release write, ours or forced: `state = released`, `released =
    /// {at[, by]}`, `serving = ticket + 1`, no `gc_at` (when `gc_at` says
    /// there may be one), and the run records
    /// (see [`Runs`]). Conditional on the
    /// owner and on `held`; `forced` with an RVN also requires that RVN,
    /// and leaves its mark. `Ok(None)` when done; `Ok(Some(item))` when refused,
    /// with the item as found.
    async fn mark_released(
        &self,
        owner: &str,
        forced: Option<Forced<'_>>,
        ticket: Option<u64>,
        gc_at: bool,
        seen: SeenUpdate<'_>,
        runs: Runs<'_>,
    ) -> Result<Option<Option<Box<LeaseRecord>>>, CallError> {
        let mut e = Expr::default();
        let owner_name = e.name(attr::OWNER);
        let state = e.name(attr::STATE);
        let released_name = e.name(attr::RELEASED);
        let owner_v = e.value("owner", s(owner));
        let released = e.value("released", s(record::STATE_RELEASED));
        let mut map = HashMap::from([("at".to_string(), s(rfc3339(Utc::now())))]);
        if let Some(f) = &forced {
            map.insert("by".to_string(), s(f.by));
        }
        let map = e.value("released_map", AttributeValue::M(map));
        // Held, too: a holder whose lease was forced meanwhile must not
        // release it again (rewriting who forced it, moving the turn back);
        // its own release sent twice is recognised from the refusal.
        let held = e.value("held", s(record::STATE_HELD));
        e.condition(format!("{owner_name} = {owner_v} AND {state} = {held}"))
            .set(format!("{state} = {released}"))
            .set(format!("{released_name} = {map}"));
        if gc_at {
            let name = e.name(attr::GC_AT);
            e.remove(name);
        }
        if let Some(f) = &forced {
            let (name, value) = (e.name(attr::LAST_FORCED), e.value("mark", s(f.mark)));
            e.set(format!("{name} = {value}"));
            if let Some(rvn) = f.rvn {
                let (name, value) = (e.name(attr::RVN), e.value("rvn", s(rvn)));
                e.condition(format!("{name} = {value}"));
            }
        }
        match seen {
            SeenUpdate::Keep => {}
            SeenUpdate::Set(seen) => {
                let (name, value) = (
                    e.name(attr::STATE_SEEN),
                    e.value("seen", seen.to_attribute()),
                );
                e.set(format!("{name} = {value}"));
            }
            SeenUpdate::Forget => {
                let name = e.name(attr::STATE_SEEN);
                e.remove(name);
            }
        }
        let slot = runs.add.map(|(fence, _)| record::run_slot(fence));
        if let (Some(slot), Some((_, json))) = (&slot, runs.add) {
            let (name, value) = (e.name(slot), e.value("run", s(json)));
            e.set(format!("{name} = {value}"));
            // Refused while the slot holds a record not yet copied (the
            // holder copies first: `Release::Full`). One just copied is
            // ours to overwrite: only the holder writes records.
            if !runs.copied.contains(slot) {
                e.condition(format!("attribute_not_exists({name})"));
            }
        }
        for path in runs.copied.iter().filter(|p| Some(*p) != slot.as_ref()) {
            let name = e.name(path);
            e.remove(name);
        }
        if let Some(t) = ticket {
            // The holder's turn is over: the next in line may go.
            let (serving, next) = (e.name(attr::SERVING), e.value("next", n(t + 1)));
            e.set(format!("{serving} = {next}"));
        }
        let req = self
            .update_lease()
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match e.to_update(req).send().await {
            Ok(_) => Ok(None),
            Err(err) => match is_conditional_failure(&err) {
                // A caller reads `None` as "removed meanwhile, free".
                Some(item) => Ok(Some(self.as_refused(item).await?.map(Box::new))),
                None => Err(self
                    .call_error(&format!("release lock {}", self.lock_key), err)
                    .await),
            },
        }
    }

    /// Deletes terraform's own lock item, conditionally on the exact value
    /// read: removed, gone already, or changed meanwhile (left).
    pub async fn delete_terraform_lock(
        &self,
        table: &str,
        lock: &TerraformLock,
    ) -> Result<super::native::Removal, CallError> {
        use super::native::Removal;
        let mut req = self
            .dynamo
            .client
            .delete_item()
            .table_name(table)
            .key(attr::KEY, s(&lock.path_key))
            .expression_attribute_names("#info", "Info");
        req = match &lock.raw_info {
            Some(info) => req
                .condition_expression("#info = :info")
                .expression_attribute_values(":info", s(info)),
            // Present, too: a delete of a missing item would succeed.
            None => req
                .condition_expression("attribute_exists(#key) AND attribute_not_exists(#info)")
                .expression_attribute_names("#key", attr::KEY),
        }
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match req.send().await {
            Ok(_) => Ok(Removal::Removed),
            Err(err) => match err.as_service_error() {
                Some(aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(e)) => {
                    if e.item().is_some() {
                        return Ok(Removal::Changed);
                    }
                    // Refused with no item returned: gone, or a service
                    // that does not return it. Never taken for gone
                    // without looking.
                    Ok(match self.read_terraform_lock(table, &lock.path_key).await? {
                        None => Removal::Gone,
                        Some(_) => Removal::Changed,
                    })
                }
                _ => Err(self.call_error(&format!("remove terraform's lock {}", lock.path_key), err).await),
            },
        }
    }

    /// Deletes the lease item, only if it is released (the drill's scratch
    /// lock, when done). `Ok(false)` when it is held or gone.
    pub async fn delete_released(&self) -> Result<bool, CallError> {
        let result = self
            .dynamo
            .client
            .delete_item()
            .table_name(&self.table)
            .key(attr::KEY, s(&self.item_key))
            .condition_expression("#lease.#state = :released")
            .expression_attribute_names("#lease", attr::LEASE)
            .expression_attribute_names("#state", attr::field(attr::STATE))
            .expression_attribute_values(":released", s(record::STATE_RELEASED))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) => match err.as_service_error() {
                Some(aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(_)) => Ok(false),
                _ => Err(self.call_error(&format!("delete lock {}", self.lock_key), err).await),
            },
        }
    }

    /// `tflock state ack`: remembers the state as it is now as the baseline
    /// for the next run, while the lock is free and has not been taken
    /// since the lease was read with fence `fence`, before the state was:
    /// a run that took and released it in between left a newer baseline,
    /// which an older look at the state must not replace.
    pub async fn acknowledge(
        &self,
        now: &crate::state::Seen,
        fence: u64,
    ) -> Result<Acknowledge, CallError> {
        let mut e = Expr::default();
        let state = e.name(attr::STATE);
        let released = e.value("released", s(record::STATE_RELEASED));
        let (fence_name, fence_v) = (e.name(attr::FENCE), e.value("fence", n(fence)));
        let (seen, value) = (
            e.name(attr::STATE_SEEN),
            e.value("seen", now.to_attribute()),
        );
        // Only on an existing, released lease (never creates an item).
        e.condition(format!("{state} = {released} AND {fence_name} = {fence_v}"))
            .set(format!("{seen} = {value}"));
        let req = self
            .update_lease()
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match e.to_update(req).send().await {
            Ok(_) => Ok(Acknowledge::Done),
            Err(err) => match is_conditional_failure(&err) {
                Some(item) => Ok(match self.as_refused(item).await? {
                    Some(found) if found.is_held() => Acknowledge::Held(Box::new(found)),
                    _ => Acknowledge::Moved,
                }),
                None => Err(self
                    .call_error(&format!("acknowledge the state of {}", self.lock_key), err)
                    .await),
            },
        }
    }

    /// Every item in the table but the history (paginated scan).
    pub async fn scan(&self) -> Result<Vec<HashMap<String, AttributeValue>>, CallError> {
        match aws::scan_prefix(&self.dynamo, &self.table, crate::history::PREFIX, false).await {
            Ok(items) => Ok(items),
            Err(err) => Err(self
                .call_error(&format!("scan table {}", self.table), err)
                .await),
        }
    }

    /// An update of this lock's lease item (the caller adds the expression).
    fn update_lease(
        &self,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.dynamo
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::KEY, s(&self.item_key))
    }

    /// The lease item, strongly consistent. `None` when there is none.
    pub async fn read(&self) -> Result<Option<LeaseRecord>, CallError> {
        let out = self
            .dynamo
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::KEY, s(&self.item_key))
            .consistent_read(true)
            .send()
            .await;
        match out {
            Ok(out) => Ok(out.item().map(|i| self.parse(i)).transpose()?),
            Err(err) => Err(self
                .call_error(&format!("read lock {}", self.lock_key), err)
                .await),
        }
    }

    /// terraform's own lock item, if present.
    pub async fn read_terraform_lock(
        &self,
        table: &str,
        lock_id: &str,
    ) -> Result<Option<TerraformLock>, CallError> {
        let out = self
            .dynamo
            .client
            .get_item()
            .table_name(table)
            .key(attr::KEY, s(lock_id))
            .consistent_read(true)
            .send()
            .await;
        match out {
            Ok(out) => Ok(out.item().map(TerraformLock::from_item)),
            Err(err) => Err(self
                .call_error(&format!("read terraform's lock {lock_id}"), err)
                .await),
        }
    }
}
