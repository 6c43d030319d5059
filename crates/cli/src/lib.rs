//! The parts of the `cloister` command that tests and benchmarks also use.

pub mod ledger_dir_writer;
pub mod sample_ledger;
