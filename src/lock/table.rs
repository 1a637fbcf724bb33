//! The lease protocol on DynamoDB (DESIGN §4): every write is conditional, and
//! every refusal returns the item as it was, so no decision rests on a second,
//! racy read.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, SecondsFormat, Utc};

use super::record::{self, LeaseRecord, TerraformLock, attr};
use crate::aws::{self, Dynamo};
use crate::error::Error;
use crate::holder::Holder;

/// How long after its wall-clock expiry an abandoned lease may be collected
/// by the table's TTL. Long enough that no plausible clock error matters (the
/// expiry comes from the holder's wall clock); a lease is only ever declared
/// dead by observation, never by this.
const GC_GRACE: chrono::Duration = chrono::Duration::days(7);

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub token: String,
    pub rvn: String,
    pub fence: u64,
    pub duration: Duration,
}

/// What an acquisition may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Only a lock nobody holds.
    Free,
    /// A lease proved stale: exactly this owner and RVN, still held.
    Stale { owner_token: String, rvn: String },
}

#[derive(Debug)]
pub enum Acquire {
    Acquired(Lease),
    /// Somebody else holds it: the item as it was when we were refused.
    Held(LeaseRecord),
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

#[derive(Debug)]
pub enum Release {
    Released,
    /// The item was not ours to release any more.
    NotOurs(Option<Box<LeaseRecord>>),
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

    /// One conditional write: succeeds only when no live lease exists (absent
    /// or released), raises the fence by one, and installs `token` and a new
    /// RVN. A refusal returns the holder's item. When a retry of ours finds
    /// our own token (the first response was lost), the lease is ours.
    pub async fn acquire(
        &self,
        holder: &Holder,
        duration: Duration,
        token: &str,
    ) -> Result<Acquire, CallError> {
        self.claim(holder, duration, token, &Claim::Free).await
    }

    /// Acquires, either a free lease or (`Claim::Stale`) one proved stale by
    /// observation: then conditional on the exact owner and RVN observed, so
    /// a heartbeat landing meanwhile makes the takeover fail.
    pub async fn claim(
        &self,
        holder: &Holder,
        duration: Duration,
        token: &str,
        claim: &Claim,
    ) -> Result<Acquire, CallError> {
        let rvn = new_token();
        let now = Utc::now();
        let expires = now + crate::duration::to_chrono(duration);
        let gc_at = (expires + GC_GRACE).timestamp();
        let mut set = vec![
            "#format = :format",
            "#state = :held",
            "#owner = :token",
            "#rvn = :rvn",
            "#fence = if_not_exists(#fence, :zero) + :one",
            "#lease_ms = :lease_ms",
            "#holder = :holder",
            "#host = :host",
            "#pid = :pid",
            "#operation = :operation",
            "#command = :command",
            "#acquired_at = :now",
            "#renewed_at = :now",
            "#expires_at = :expires",
            "#gc_at = :gc_at",
        ];
        // Attributes of the previous holder that must not survive into ours.
        let mut remove = vec!["#released_at", "#terraform_lock_id"];
        let mut req = self
            .dynamo
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::KEY, s(&self.item_key))
            .condition_expression(match claim {
                // A released item of another format is not ours to reuse.
                Claim::Free => "attribute_not_exists(#key) OR (#state = :released AND #format = :format)",
                Claim::Stale { .. } => {
                    "attribute_exists(#key) AND #owner = :old_owner AND #rvn = :old_rvn AND #state = :held"
                }
            })
            .expression_attribute_names("#key", attr::KEY)
            .expression_attribute_names("#format", attr::FORMAT)
            .expression_attribute_names("#state", attr::STATE)
            .expression_attribute_names("#owner", attr::OWNER)
            .expression_attribute_names("#rvn", attr::RVN)
            .expression_attribute_names("#fence", attr::FENCE)
            .expression_attribute_names("#lease_ms", attr::LEASE_MS)
            .expression_attribute_names("#holder", attr::HOLDER)
            .expression_attribute_names("#host", attr::HOST)
            .expression_attribute_names("#pid", attr::PID)
            .expression_attribute_names("#operation", attr::OPERATION)
            .expression_attribute_names("#command", attr::COMMAND)
            .expression_attribute_names("#acquired_at", attr::ACQUIRED_AT)
            .expression_attribute_names("#renewed_at", attr::RENEWED_AT)
            .expression_attribute_names("#expires_at", attr::EXPIRES_AT)
            .expression_attribute_names("#gc_at", attr::GC_AT)
            .expression_attribute_names("#released_at", attr::RELEASED_AT)
            .expression_attribute_names("#terraform_lock_id", attr::TERRAFORM_LOCK_ID)
            .expression_attribute_names("#ci_url", attr::CI_URL)
            .expression_attribute_values(":format", s(record::FORMAT_V1))
            .expression_attribute_values(":held", s(record::STATE_HELD))
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":rvn", s(&rvn))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":lease_ms", n(duration.as_millis()))
            .expression_attribute_values(":holder", s(holder.who()))
            .expression_attribute_values(":host", s(&holder.host))
            .expression_attribute_values(":pid", n(holder.pid))
            .expression_attribute_values(":operation", s(&holder.operation))
            .expression_attribute_values(":command", s(&holder.command))
            .expression_attribute_values(":now", s(rfc3339(now)))
            .expression_attribute_values(":expires", s(rfc3339(expires)))
            .expression_attribute_values(":gc_at", n(gc_at))
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Claim::Stale { owner_token, rvn } = claim {
            req = req
                .expression_attribute_values(":old_owner", s(owner_token))
                .expression_attribute_values(":old_rvn", s(rvn));
        } else {
            // `:released` is only used by the free-lock condition (DynamoDB
            // rejects unused values).
            req = req.expression_attribute_values(":released", s(record::STATE_RELEASED));
        }
        match &holder.ci_url {
            Some(url) => {
                set.push("#ci_url = :ci_url");
                req = req.expression_attribute_values(":ci_url", s(url));
            }
            None => remove.push("#ci_url"),
        }
        let expr = format!("SET {} REMOVE {}", set.join(", "), remove.join(", "));
        let doing = format!("acquire lock {}", self.lock_key);
        match req.update_expression(expr).send().await {
            Ok(out) => {
                let fence = out
                    .attributes()
                    .and_then(|a| a.get(attr::FENCE))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| {
                        Error::Internal("the acquire response carried no fence".into())
                    })?;
                Ok(Acquire::Acquired(Lease {
                    token: token.to_string(),
                    rvn,
                    fence,
                    duration,
                }))
            }
            Err(err) => match is_conditional_failure(&err) {
                Some(Some(item)) => Ok(self.judge(self.parse(item)?, token, duration)),
                // Refused, yet no item came back: the service did not honour
                // ReturnValuesOnConditionCheckFailure. Read it instead.
                Some(None) => match self.read().await? {
                    Some(found) if found.is_held() => Ok(self.judge(found, token, duration)),
                    _ => Err(CallError {
                        error: Error::Unavailable(format!(
                            "cannot {doing}: refused, and the lock was free when read back"
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

    /// A refusal's item: someone else's lease, or ours (an earlier attempt of
    /// this wait landed and its response was lost).
    fn judge(&self, found: LeaseRecord, token: &str, duration: Duration) -> Acquire {
        if found.owner_token == token && found.is_held() {
            return Acquire::Acquired(Lease {
                token: token.to_string(),
                rvn: found.rvn,
                fence: found.fence,
                duration,
            });
        }
        Acquire::Held(found)
    }

    /// Extends the lease: conditional on our token and the RVN we last wrote,
    /// and sets a new RVN (what observers watch to see that we are alive).
    pub async fn renew(
        &self,
        lease: &mut Lease,
        terraform_lock_id: Option<&str>,
    ) -> Result<Renew, CallError> {
        let rvn = new_token();
        let now = Utc::now();
        let expires = now + crate::duration::to_chrono(lease.duration);
        let mut set =
            "SET #rvn = :new_rvn, #renewed_at = :now, #expires_at = :expires, #gc_at = :gc_at"
                .to_string();
        let mut req = self
            .dynamo
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::KEY, s(&self.item_key))
            .condition_expression("#owner = :token AND #rvn = :rvn AND #state = :held")
            .expression_attribute_names("#owner", attr::OWNER)
            .expression_attribute_names("#rvn", attr::RVN)
            .expression_attribute_names("#state", attr::STATE)
            .expression_attribute_names("#renewed_at", attr::RENEWED_AT)
            .expression_attribute_names("#expires_at", attr::EXPIRES_AT)
            .expression_attribute_names("#gc_at", attr::GC_AT)
            .expression_attribute_values(":token", s(&lease.token))
            .expression_attribute_values(":rvn", s(&lease.rvn))
            .expression_attribute_values(":held", s(record::STATE_HELD))
            .expression_attribute_values(":new_rvn", s(&rvn))
            .expression_attribute_values(":now", s(rfc3339(now)))
            .expression_attribute_values(":expires", s(rfc3339(expires)))
            .expression_attribute_values(":gc_at", n((expires + GC_GRACE).timestamp()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if let Some(id) = terraform_lock_id {
            set.push_str(", #terraform_lock_id = :tf_id");
            req = req
                .expression_attribute_names("#terraform_lock_id", attr::TERRAFORM_LOCK_ID)
                .expression_attribute_values(":tf_id", s(id));
        }
        match req.update_expression(set).send().await {
            Ok(_) => {
                lease.rvn = rvn;
                Ok(Renew::Renewed)
            }
            Err(err) => match is_conditional_failure(&err) {
                Some(item) => {
                    let found = item.map(|i| self.parse(i)).transpose()?;
                    match found {
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
    /// Conditional on our token only, so it is idempotent and works after a
    /// renewal whose response was lost. Also the clean-up after an interrupted
    /// acquire: with a token that never landed, it changes nothing.
    pub async fn release(&self, token: &str) -> Result<Release, CallError> {
        let result = self
            .dynamo
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::KEY, s(&self.item_key))
            .update_expression("SET #state = :released, #released_at = :now REMOVE #gc_at")
            .condition_expression("#owner = :token")
            .expression_attribute_names("#owner", attr::OWNER)
            .expression_attribute_names("#state", attr::STATE)
            .expression_attribute_names("#released_at", attr::RELEASED_AT)
            .expression_attribute_names("#gc_at", attr::GC_AT)
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":released", s(record::STATE_RELEASED))
            .expression_attribute_values(":now", s(rfc3339(Utc::now())))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Release::Released),
            Err(err) => match is_conditional_failure(&err) {
                Some(item) => Ok(Release::NotOurs(
                    item.and_then(|i| LeaseRecord::from_item(i).ok())
                        .map(Box::new),
                )),
                None => Err(self
                    .call_error(&format!("release lock {}", self.lock_key), err)
                    .await),
            },
        }
    }

    /// Releases a lease that is not ours, proved stale by observation:
    /// conditional on the owner and RVN observed, so a heartbeat that landed
    /// meanwhile makes it fail (`Ok(false)`). Marks it released (the fence
    /// survives) and records who forced it.
    ///
    /// `exact_rvn: false` is the unguarded path (`force-unlock TOKEN`): only
    /// the owner must match, the holder's liveness is the operator's word.
    pub async fn force_release(
        &self,
        observed: &LeaseRecord,
        by: &str,
        exact_rvn: bool,
    ) -> Result<bool, CallError> {
        let mut req = self
            .dynamo
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::KEY, s(&self.item_key))
            .update_expression(
                "SET #state = :released, #released_at = :now, #released_by = :by REMOVE #gc_at",
            )
            .expression_attribute_names("#owner", attr::OWNER)
            .expression_attribute_names("#state", attr::STATE)
            .expression_attribute_names("#released_at", attr::RELEASED_AT)
            .expression_attribute_names("#released_by", attr::RELEASED_BY)
            .expression_attribute_names("#gc_at", attr::GC_AT)
            .expression_attribute_values(":owner", s(&observed.owner_token))
            .expression_attribute_values(":held", s(record::STATE_HELD))
            .expression_attribute_values(":released", s(record::STATE_RELEASED))
            .expression_attribute_values(":now", s(rfc3339(Utc::now())))
            .expression_attribute_values(":by", s(by));
        req = if exact_rvn {
            req.condition_expression("#owner = :owner AND #rvn = :rvn AND #state = :held")
                .expression_attribute_names("#rvn", attr::RVN)
                .expression_attribute_values(":rvn", s(&observed.rvn))
        } else {
            req.condition_expression("#owner = :owner AND #state = :held")
        };
        match req.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_conditional_failure(&err).is_some() => Ok(false),
            Err(err) => Err(self
                .call_error(&format!("force-unlock {}", self.lock_key), err)
                .await),
        }
    }

    /// Deletes terraform's own lock item, conditionally on the exact value
    /// read (`Ok(false)` when it changed meanwhile).
    pub async fn delete_terraform_lock(
        &self,
        table: &str,
        lock: &TerraformLock,
    ) -> Result<bool, CallError> {
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
            None => req.condition_expression("attribute_not_exists(#info)"),
        };
        match req.send().await {
            Ok(_) => Ok(true),
            Err(err) => match err.as_service_error() {
                Some(aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(_)) => Ok(false),
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
            .condition_expression("#state = :released")
            .expression_attribute_names("#state", attr::STATE)
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

    /// Every item in the table (paginated scan).
    pub async fn scan(&self) -> Result<Vec<HashMap<String, AttributeValue>>, CallError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .dynamo
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await;
            let out = match out {
                Ok(out) => out,
                Err(err) => {
                    return Err(self
                        .call_error(&format!("scan table {}", self.table), err)
                        .await);
                }
            };
            items.extend(out.items().iter().cloned());
            match out.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(items),
            }
        }
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
