//! `redline serve`: the admission webhook. `review` is the engine behind both endpoints;
//! the HTTPS server, certificate reloading, lookups and metrics (issue 7) build on it.

pub mod review;
