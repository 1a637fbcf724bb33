//! `tflock drill` (not yet implemented).

use crate::cli::{DrillArgs, GlobalArgs};
use crate::error::{Error, Result};
use crate::output::Reporter;

pub fn run(_global: &GlobalArgs, _args: &DrillArgs, _reporter: &Reporter) -> Result<u8> {
    Err(Error::usage("tflock drill is not implemented yet"))
}
