//! Cloister's load generator: closed-loop clients (one keep-alive connection each, one request
//! at a time) writing small records to a Cloister service or an etcd cluster, with latency
//! percentiles and committed writes per second.
//!
//! An I/O crate (ARCHITECTURE.md): sockets, clocks and tasks.
#![forbid(unsafe_code)]

pub mod cloister;
pub mod closed_loop;
pub mod commit;
pub mod etcd;
pub mod report;
pub mod stats;

pub use cloister::CloisterTarget;
pub use etcd::Endpoint;
pub use report::Report;
