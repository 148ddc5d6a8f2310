//! Byte counts for people (`32.0 GiB`), via `byte-unit`, which the user chose for this.
//!
//! Display only: byte-unit must never parse a Kubernetes or Redis size (it reads `500m` as
//! mega and `32gb` as bits: byte-unit 5.2.6 `read_xib` in `src/unit/parse.rs` ignores the case
//! of the prefix letter, and a lowercase `b` is a bit unless case is ignored; see
//! https://docs.rs/byte-unit/5.2.6/byte_unit/struct.Byte.html#method.parse_str).

use byte_unit::{Byte, UnitType};

/// `34359738368` → `32.0 GiB`; below 1 KiB the exact count (`512 B`).
pub fn size(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let adjusted = Byte::from_u64(bytes).get_appropriate_unit(UnitType::Binary);
    format!("{adjusted:.1}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn binary_units_one_decimal() {
        assert_eq!(super::size(34_359_738_368), "32.0 GiB");
        assert_eq!(super::size(429_496_729), "409.6 MiB");
        assert_eq!(super::size(512), "512 B");
    }
}
