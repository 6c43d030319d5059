//! cloister-sim: a deterministic world of N `NodeCore`s in one thread — simulated clock,
//! network, disk and processes, faults drawn from a seed — with cloister-check's invariants
//! checked after every step. Sans-IO like the node: the seed is the only source of randomness.
#![forbid(unsafe_code)]
