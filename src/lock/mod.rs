//! The lease lock: its record, its protocol on DynamoDB, and waiting for it.

pub mod lockfile;
pub mod native;
pub mod observe;
pub mod record;
pub mod schema;
pub mod table;
pub mod update;
pub mod wait;

pub use record::{LeaseRecord, TerraformLock};
pub use table::{
    Acknowledge, Acquire, CallError, ForceRelease, Lease, LeaseTable, Release, Renew, Runs,
    SeenUpdate,
};
