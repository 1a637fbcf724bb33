//! `tflock setup` (not yet implemented).

use crate::cli::{SetupArgs, GlobalArgs};
use crate::error::{Error, Result};
use crate::output::Reporter;

pub fn run(_global: &GlobalArgs, _args: &SetupArgs, _reporter: &Reporter) -> Result<u8> {
    Err(Error::usage("tflock setup is not implemented yet"))
}
