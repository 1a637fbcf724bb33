//! `tflock stats` (not yet implemented).

use crate::cli::{StatsArgs, GlobalArgs};
use crate::error::{Error, Result};
use crate::output::Reporter;

pub fn run(_global: &GlobalArgs, _args: &StatsArgs, _reporter: &Reporter) -> Result<u8> {
    Err(Error::usage("tflock stats is not implemented yet"))
}
