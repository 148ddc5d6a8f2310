//! redline: keeps Redis on Kubernetes from falling over.
//!
//! One rule engine behind three faces (`lint`, `fix`, `serve`); see `ARCHITECTURE.md`.
//! This crate is the engine; `src/main.rs` is the command line.

pub mod dump;
pub mod extract;
pub mod input;
pub mod model;
pub mod redisconf;
pub mod source;
pub mod units;
