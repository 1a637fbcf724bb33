//! `tflock doctor` (not yet implemented).

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::error::{Error, Result};
use crate::output::Reporter;

pub fn run(_global: &GlobalArgs, _args: &DoctorArgs, _reporter: &Reporter) -> Result<u8> {
    Err(Error::usage("tflock doctor is not implemented yet"))
}
