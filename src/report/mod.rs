//! Reports of findings. One module per format.

pub mod human;
