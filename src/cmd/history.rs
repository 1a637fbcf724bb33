//! `tflock history` (not yet implemented).

use crate::cli::{HistoryArgs, GlobalArgs};
use crate::error::{Error, Result};
use crate::output::Reporter;

pub fn run(_global: &GlobalArgs, _args: &HistoryArgs, _reporter: &Reporter) -> Result<u8> {
    Err(Error::usage("tflock history is not implemented yet"))
}
