//! The `cloister-sim` binary: runs seeds and prints traces and summaries.

fn main() {}
