//! `redline serve`: the admission webhook. `review` is the engine behind both endpoints
//! (no HTTP); `server` is the axum/rustls adapter, `tls` the certificate it serves and
//! reloads, `lookups` what a review is judged with, `metrics` what `/metrics` shows.

pub mod live;
pub mod lookups;
pub mod metrics;
pub mod review;
pub mod server;
pub mod tls;
