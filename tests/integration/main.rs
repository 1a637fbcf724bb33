//! Integration tests: the real tflock binary against a real moto server and
//! real terraform. See support/ for the harness.

mod support;

mod admin;
mod corpus;
mod ecosystem;
mod errors;
mod events;
mod exclusion;
mod fairness;
mod faults;
mod generated;
mod guarded;
mod iam_doc;
mod interactive;
mod logging;
mod operations;
mod recipes;
mod recovery;
mod signals;
mod state_guard;
mod terraform_runs;
