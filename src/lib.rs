//! redline: keeps Redis on Kubernetes from falling over.
//!
//! One rule engine behind four faces (`lint`, `fix`, `serve`, `audit`); see `ARCHITECTURE.md`.
//! This crate is the engine and the faces; [`cli`] is the command line, which `src/main.rs`
//! runs.

pub mod audit;
pub mod budget;
pub mod cli;
pub mod dump;
pub mod engine;
pub mod exemptions;
pub mod extract;
pub mod fix;
pub mod heap;
pub mod hint;
pub mod input;
pub mod lint;
pub mod lsp;
pub mod model;
pub mod patch;
pub mod pointer;
pub mod redisconf;
pub mod report;
pub mod rules;
pub mod settings;
pub mod source;
pub mod units;
pub mod webhook;
