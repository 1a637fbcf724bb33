//! One module per subcommand.

pub mod config;
pub mod doctor;
pub mod drill;
pub mod force_unlock;
pub mod generate;
pub mod history;
pub mod passthrough;
pub mod run;
pub mod setup;
pub mod state;
pub mod state_guard;
pub mod stats;
pub mod status;

use crate::error::{Error, Result};

/// The async runtime: one thread. The child is spawned from it, and it lives
/// as long as the process, which is what PR_SET_PDEATHSIG needs (DESIGN §5).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}
