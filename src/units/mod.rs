//! The two unit systems redline compares, parsed once at the edge into bytes.
//!
//! - [`quantity`]: Kubernetes `resource.Quantity` (`2Gi`, `512M`, `2048m` = 2.048 bytes).
//! - [`redis`]: Redis sizes (`2gb` = 2^31, `2g` = 2·10^9).
//! - [`human`]: sizes for people, in messages only.

pub mod human;
pub mod quantity;
pub mod redis;
