//! The parts of the `cloister` command that tests and benchmarks also use.

pub mod sample_ledger;
