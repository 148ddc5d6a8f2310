//! Container image references, and the engine and release their tags name.
//!
//! The grammar is the distribution reference's (`distribution/reference/reference.go`):
//! `[registry/]path[:tag][@digest]`, where the first component is a registry when it holds a
//! `.` or a `:` or is `localhost`. Only tags that say the release are read as one: a vendor's
//! date, build number or `v1` is "unknown", never a guess.

use crate::model::{Loc, Located, Product, Version};

pub use crate::model::image::ImageRef;

/// The release a tag names, for an image of `engine`: `7.2.4-alpine`, `8.0`,
/// `7.2.4-debian-12-r9`, `18-02-07_8205764_3.2-alpine` (a dotted release after a date); a
/// bare major (`7-alpine`) only from the official and Bitnami images. `None` for `latest`,
/// `v1`, dates, build numbers.
pub fn release_from_tag(
    image: &ImageRef,
    engine: Product,
) -> Option<(u32, Option<u32>, Option<u32>)> {
    let tag = image.tag?;
    let plausible = |major: u32| match engine {
        Product::Redis => (2..=8).contains(&major),
        Product::Valkey => (7..=9).contains(&major),
        Product::KeyDb => (5..=6).contains(&major),
        Product::Dragonfly => major == 1,
    };
    let words: Vec<&str> = tag.split(['-', '_']).collect();
    for (i, word) in words.iter().enumerate() {
        let numeric = word.strip_prefix('v').unwrap_or(word);
        let parts: Vec<&str> = numeric.split('.').collect();
        if parts.len() > 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 4)
        {
            continue;
        }
        let nums: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
        // No release line has reached minor 20 or patch 100: `6.2.1106` is a vendor's own
        // numbering (Sourcegraph's release 6.2), not Redis 6.2.
        if nums.len() != parts.len()
            || !plausible(nums[0])
            // Dragonfly's minors run past 40 (v1.40.0).
            || nums
                .get(1)
                .is_some_and(|&m| m >= if engine == Product::Dragonfly { 100 } else { 20 })
            || nums.get(2).is_some_and(|&p| p >= 100)
        {
            continue;
        }
        // `v2.8.1` on `goharbor/redis-photon` is Harbor's release; OT's `opstree/redis:v7.0.12`
        // is Redis': a `v` counts only on an image named for the engine itself.
        if word.starts_with('v')
            && !matches!(image.name(), "redis" | "valkey" | "keydb" | "dragonfly")
        {
            continue;
        }
        if nums.len() == 1 {
            // `7-alpine` on the official image; a bare number elsewhere is a build or date.
            if i == 0 && !word.starts_with('v') && (image.is_official() || image.is_bitnami()) {
                return Some((nums[0], None, None));
            }
            continue;
        }
        return Some((nums[0], nums.get(1).copied(), nums.get(2).copied()));
    }
    None
}

/// The engine and release of an image that runs a server, with where the image is written.
pub fn version_of(image: &Located<String>, engine: Product) -> Option<Version> {
    let reference = ImageRef::parse(&image.value);
    let release = release_from_tag(&reference, engine)?;
    Some(version(
        engine,
        release,
        reference.tag.unwrap_or_default(),
        &image.at,
    ))
}

/// A release written in a field: `numeric` is the part that holds it (`7.2.4` of
/// KubeBlocks' `serviceVersion`, `7` of a definition name `redis-7`), `text` what is shown.
pub fn version_from_text(engine: Product, numeric: &str, text: &str, at: &Loc) -> Option<Version> {
    let reference = ImageRef {
        registry: None,
        path: "",
        tag: Some(numeric),
        digest: None,
    };
    let release = release_from_tag(&reference, engine)
        // A bare major is fine where the field holds only a release.
        .or_else(|| Some((numeric.trim_start_matches('v').parse().ok()?, None, None)))?;
    Some(version(engine, release, text, at))
}

fn version(
    engine: Product,
    (major, minor, patch): (u32, Option<u32>, Option<u32>),
    text: &str,
    at: &Loc,
) -> Version {
    Version {
        product: engine,
        text: text.to_string(),
        major,
        minor,
        patch,
        at: at.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(image: &str, engine: Product) -> Option<(u32, Option<u32>, Option<u32>)> {
        release_from_tag(&ImageRef::parse(image), engine)
    }

    #[test]
    fn references_split_as_the_distribution_grammar_says() {
        let r = ImageRef::parse("registry:5000/library/redis:7.2@sha256:abc");
        assert_eq!(r.registry, Some("registry:5000"));
        assert_eq!(r.path, "library/redis");
        assert_eq!(r.tag, Some("7.2"));
        assert_eq!(r.digest, Some("sha256:abc"));
        let r = ImageRef::parse("localhost:5000/redis");
        assert_eq!(
            (r.registry, r.path, r.tag),
            (Some("localhost:5000"), "redis", None)
        );
        let r = ImageRef::parse("bitnami/redis:7.2.4-debian-12-r9");
        assert_eq!(
            (r.registry, r.name(), r.tag),
            (None, "redis", Some("7.2.4-debian-12-r9"))
        );
        assert!(r.is_bitnami() && !r.is_official());
        assert!(ImageRef::parse("docker.io/library/redis:7").is_official());
        assert!(ImageRef::parse("valkey/valkey:8.1.3-alpine").is_official());
        assert!(!ImageRef::parse("quay.io/opstree/redis:v7.0.12").is_official());
        assert_eq!(ImageRef::parse("redis@sha256:abc").tag, None);
    }

    #[test]
    fn tags_name_a_release_or_nothing() {
        use Product::{Redis, Valkey};
        assert_eq!(
            release("redis:7.2.4-alpine", Redis),
            Some((7, Some(2), Some(4)))
        );
        assert_eq!(
            release("valkey/valkey:8.0", Valkey),
            Some((8, Some(0), None))
        );
        assert_eq!(
            release("bitnami/redis:7.2.4-debian-12-r9", Redis),
            Some((7, Some(2), Some(4)))
        );
        assert_eq!(
            release("bitnami/valkey:8.0.1", Valkey),
            Some((8, Some(0), Some(1)))
        );
        assert_eq!(
            release("redis:6.2.6-alpine3.15", Redis),
            Some((6, Some(2), Some(6)))
        );
        assert_eq!(release("redis:7-alpine", Redis), Some((7, None, None)));
        assert_eq!(
            release("quay.io/opstree/redis:v7.0.12", Redis),
            Some((7, Some(0), Some(12)))
        );
        assert_eq!(
            release("sourcegraph/redis:18-02-07_8205764_3.2-alpine", Redis),
            Some((3, Some(2), None))
        );
        assert_eq!(release("registry.k8s.io/redis:v1", Redis), None);
        assert_eq!(
            release("gcr.io/google_samples/gb-redis-follower:v2", Redis),
            None
        );
        assert_eq!(release("redis:latest", Redis), None);
        assert_eq!(release("redis", Redis), None);
        assert_eq!(release("redis@sha256:0123", Redis), None);
        assert_eq!(release("example/redis:2023.01.05", Redis), None);
        assert_eq!(release("example/redis:20230105-1", Redis), None);
        assert_eq!(
            release("example/valkey:7.2.4", Valkey),
            Some((7, Some(2), Some(4)))
        );
        assert_eq!(
            release("index.docker.io/sourcegraph/redis-cache:6.2.1106", Redis),
            None
        );
        assert_eq!(release("goharbor/redis-photon:v2.8.1", Redis), None);
        assert!(ImageRef::parse("mcr.microsoft.com/oss/bitnami/redis:6.0.8").is_bitnami());
        assert!(ImageRef::parse("public.ecr.aws/docker/library/redis:7").is_official());
        assert!(ImageRef::parse("ghcr.io/valkey-io/valkey:9.0.4-alpine3.23").is_official());
        assert_eq!(
            release("valkey/valkey:9.0.4-alpine3.23", Valkey),
            Some((9, Some(0), Some(4)))
        );
    }
}
