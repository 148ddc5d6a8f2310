//! "Did you mean" suggestions: one edit distance for rule IDs, parameter and directive names.

/// The Levenshtein distance between `a` and `b` when it is at most `max`, else `None`.
/// The distance is at least the difference in length, so far-apart lengths cost nothing:
/// without that bound a tenant's 1 MiB token cost |token| × |candidate| per candidate, and
/// took seconds of the webhook's time (found by fuzzing, issue 9).
pub fn edit_distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    let (a_len, b_len) = (a.chars().count(), b.chars().count());
    if a_len.abs_diff(b_len) > max {
        return None;
    }
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b_len).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    Some(row[b_len]).filter(|d| *d <= max)
}

#[cfg(test)]
mod tests {
    use super::edit_distance_within;

    #[test]
    fn distances_and_their_bound() {
        assert_eq!(edit_distance_within("maxmemory", "maxmemory", 2), Some(0));
        assert_eq!(edit_distance_within("maxmemroy", "maxmemory", 2), Some(2));
        assert_eq!(edit_distance_within("kitten", "sitting", 3), Some(3));
        assert_eq!(edit_distance_within("kitten", "sitting", 2), None);
        assert_eq!(edit_distance_within("", "abc", 3), Some(3));
        assert_eq!(edit_distance_within("é", "e", 1), Some(1));
        // Far apart in length: no table is built at all.
        let long = "x".repeat(1 << 20);
        assert_eq!(edit_distance_within(&long, "maxmemory", 4), None);
    }
}
