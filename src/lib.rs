//! redline: keeps Redis on Kubernetes from falling over.
//!
//! One rule engine behind three faces (`lint`, `fix`, `serve`); see `ARCHITECTURE.md`.
//! This crate is the engine; `src/main.rs` is the command line.

pub mod budget;
pub mod config;
pub mod dump;
pub mod engine;
pub mod exemptions;
pub mod extract;
pub mod fix;
pub mod heap;
pub mod input;
pub mod lint;
pub mod model;
pub mod patch;
pub mod pointer;
pub mod redisconf;
pub mod report;
pub mod rules;
pub mod source;
pub mod units;
pub mod webhook;
