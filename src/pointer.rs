//! JSON pointers (RFC 6901), written once: every face reads and writes them (the model's
//! locations, the rules' fixes, the fix editor, the webhook's patches).

use std::borrow::Cow;

/// Escape one reference token: `~` → `~0`, `/` → `~1`.
pub fn escape(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

/// The token as it was before [`escape`]: `~1` → `/`, then `~0` → `~`.
pub fn unescape(token: &str) -> Cow<'_, str> {
    if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~").into()
    } else {
        token.into()
    }
}

/// `pointer`'s reference tokens, unescaped (`/a~1b/0` → `a/b`, `0`); `None` when it is not
/// a pointer (not empty and not starting with `/`). The empty pointer has none.
pub fn tokens(pointer: &str) -> Option<impl Iterator<Item = Cow<'_, str>>> {
    let rest = match pointer {
        "" => None,
        p => Some(p.strip_prefix('/')?),
    };
    Some(rest.into_iter().flat_map(|r| r.split('/')).map(unescape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_through_escaping() {
        for token in ["a", "a/b", "~", "~1", "redline.dev/ignore", "", "0"] {
            assert_eq!(unescape(&escape(token)), token);
        }
        assert_eq!(escape("redline.dev/ignore"), "redline.dev~1ignore");
        assert_eq!(escape("a~/b"), "a~0~1b");
        // `~01` is `~1` escaped, not `/` escaped after a `~`.
        assert_eq!(unescape("~01"), "~1");
        let got: Vec<_> = tokens("/metadata/annotations/a~1b").unwrap().collect();
        assert_eq!(got, ["metadata", "annotations", "a/b"]);
        assert_eq!(tokens("").unwrap().count(), 0);
        assert!(tokens("no-slash").is_none());
    }
}
