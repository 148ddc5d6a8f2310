//! Container image references: the parts of one, and what its name says (the engine, an
//! official or Bitnami build). Pure string reading of a model value; the releases its tags
//! name are read in `extract::image`.

use super::Product;

/// The parts of `registry:5000/org/redis:7.2.4-alpine@sha256:…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    pub registry: Option<&'a str>,
    /// The path without the registry (`bitnami/redis`, `library/redis`, `redis`).
    pub path: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    pub fn parse(image: &'a str) -> ImageRef<'a> {
        let image = image.trim();
        let (name_tag, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (image, None),
        };
        let (name, tag) = match name_tag.rsplit_once(':') {
            // A colon before the last `/` is a registry's port, not a tag.
            Some((n, t)) if !t.contains('/') => (n, Some(t)),
            _ => (name_tag, None),
        };
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first), rest)
            }
            _ => (None, name),
        };
        ImageRef {
            registry,
            path,
            tag,
            digest,
        }
    }

    /// The last path component (`redis` of `bitnami/redis`).
    pub fn name(&self) -> &'a str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }

    /// Docker Hub's official image of an engine (`redis`, `library/redis`, `valkey/valkey`),
    /// whose default command is a bare `redis-server`/`valkey-server`.
    /// Mirrors of the library images keep their path (`public.ecr.aws/docker/library/redis`,
    /// `mirror.gcr.io/library/redis`); Valkey publishes the same build as
    /// `ghcr.io/valkey-io/valkey`.
    pub fn is_official(&self) -> bool {
        let hub = matches!(
            self.registry,
            None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io")
        );
        matches!(
            self.path,
            "library/redis" | "docker/library/redis" | "library/valkey"
        ) || (hub && matches!(self.path, "redis" | "valkey/valkey" | "valkey"))
            || (self.registry == Some("ghcr.io") && self.path == "valkey-io/valkey")
    }

    /// Bitnami's images (`bitnami/redis`, `bitnamilegacy/redis-cluster`, `bitnamisecure/…`),
    /// configured by their own scripts.
    pub fn is_bitnami(&self) -> bool {
        self.path.split('/').any(|p| p.starts_with("bitnami"))
    }

    /// KeyDB's image (`eqalpha/keydb`): its entrypoint runs `keydb-server` for options and
    /// `.conf` files, and its build turns protected mode off (KeyDB `pkg/docker/Dockerfile`).
    pub fn is_keydb(&self) -> bool {
        self.path == "eqalpha/keydb"
    }

    /// Dragonfly's own images (docker.dragonflydb.io, ghcr.io, Docker Hub): their entrypoint
    /// runs `dragonfly --logtostderr` with options given alone (tools/docker/entrypoint.sh).
    pub fn is_dragonfly(&self) -> bool {
        self.path == "dragonflydb/dragonfly"
    }

    /// The engine the image's name says, for images that run a server.
    pub fn engine(&self) -> Option<Product> {
        let name = self.name();
        if name.contains("dragonfly") {
            Some(Product::Dragonfly)
        } else if name.contains("keydb") {
            Some(Product::KeyDb)
        } else if name.contains("valkey") {
            Some(Product::Valkey)
        } else if name.contains("redis") {
            Some(Product::Redis)
        } else {
            None
        }
    }
}
