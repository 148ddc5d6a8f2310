//! ## redis-engine-lifecycle
//!
//! **What it does.** Reads the Redis release a server or Sentinel runs — the image tag
//! (`redis:7.4.1`, `bitnami/redis:6.2.14`), a KubeBlocks `serviceVersion`, an operator's
//! default image — and reports, as an info:
//! - a release past its end of life: below 6.2, 7.0, 8.0; and 6.2, whose support upstream
//!   "may be removed after end of 2025";
//! - a release under a source-available licence: 7.4 and later (RSALv2 or SSPLv1; 8.0 adds
//!   AGPLv3).
//!
//! Each message names the Valkey release that replaces the image and whether the data moves
//! with it (Redis 7.4+ writes RDB 12, which Valkey before 9.0 refuses). A floating tag of
//! the official image (`redis:7`) is judged as the release it follows (7.4); an operator's
//! major-only field (KubeBlocks `redis-7`, OT `v7`) is not judged. Valkey images are not
//! reported.
//!
//! The admission webhook does not run this rule unless `.redline.yaml` says `webhook: true`
//! for it: a licence or a release date is for the CI report, not a reason to hold a pod.
//!
//! **Why it matters.** A release past its end of life gets no security fixes; a
//! source-available licence restricts offering Redis as a service, which legal teams track
//! (`rules/redis-engine-lifecycle.yaml` lists the sources and the date the facts hold on).
//!
//! **Fix.** None automatic: changing the engine or the release is a migration.
use serde::{Deserialize, Serialize};

use crate::model::{Deployment, Product};

use super::{Context, Rule, Violation};

/// What to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Report {
    All,
    EndOfLife,
    Licence,
}

/// `rules/redis-engine-lifecycle.yaml` describes each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub report: Report,
}

/// The release a floating tag follows (`redis:7` is the newest 7.x), as of the date in
/// the rule's rationale; `None`: a line whose newest minor is not pinned here (8.x), judged
/// only on what every release of the line shares.
const NEWEST_MINOR: [(u32, Option<u32>); 4] = [(5, Some(0)), (6, Some(2)), (7, Some(4)), (8, None)];

pub struct Check;

impl Rule for Check {
    type Params = Params;

    fn deployment(&self, cx: &Context<Params>, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(v) = &d.version else { return };
        if v.product != Product::Redis {
            return;
        }
        let (release, head) = match v.minor {
            Some(minor) => ((v.major, minor), format!("Redis {}", v.text)),
            // Only a Docker Official Image's tag floats to the newest release of its line;
            // an operator's major-only field (KubeBlocks `redis-7`, OT `v7`) pins a release
            // the input does not show.
            None if !official_tag(d) => return,
            None => match NEWEST_MINOR.iter().find(|(m, _)| *m == v.major) {
                Some((_, Some(minor))) => (
                    (v.major, *minor),
                    format!(
                        "Redis `{}` follows the newest {}.x release, {}.{minor}",
                        v.text, v.major, v.major
                    ),
                ),
                Some((_, None)) => (
                    (v.major, u32::MAX),
                    format!("Redis `{}` follows the newest {}.x release", v.text, v.major),
                ),
                None => return,
            },
        };
        let mut parts = Vec::new();
        if cx.params.report != Report::Licence
            && let Some(eol) = end_of_life(release)
        {
            parts.push(eol);
        }
        if cx.params.report != Report::EndOfLife
            && let Some(licence) = licence(release)
        {
            parts.push(licence);
        }
        if parts.is_empty() {
            return;
        }
        out.push(Violation::new(
            v.at.clone(),
            format!("{head}: {}; {}", parts.join("; "), replacement(release)),
        ));
    }
}

/// The version was read from a Docker Official Image's tag.
fn official_tag(d: &Deployment) -> bool {
    let Some(v) = &d.version else { return false };
    d.containers.iter().any(|c| {
        c.official_image() && c.image.as_ref().is_some_and(|i| i.at == v.at)
    })
}

/// Past (or at) its end of life on the rule's date.
fn end_of_life(release: (u32, u32)) -> Option<&'static str> {
    match release {
        (major, _) if major < 6 => Some("past its end of life: no security fixes"),
        (6, minor) if minor < 2 => Some("past its end of life: no security fixes"),
        (6, 2) => Some(
            "at its end of life: only security fixes, and upstream \"support may be removed \
             after end of 2025\" (redis/redis SECURITY.md)",
        ),
        (7, 0) => Some("past its end of life (2024-07-29): no security fixes"),
        (8, 0) => Some("past its end of life (2026-02-11): no security fixes"),
        _ => None,
    }
}

fn licence(release: (u32, u32)) -> Option<&'static str> {
    match release {
        (8.., _) => Some(
            "licensed under RSALv2, SSPLv1 or AGPLv3 at your choice — source-available unless \
             you take AGPLv3 and its obligations for a modified server",
        ),
        (7, minor) if minor >= 4 => Some(
            "licensed under RSALv2 or SSPLv1, source-available licences that are not open \
             source (Redis 7.2 and earlier are BSD-3-Clause)",
        ),
        _ => None,
    }
}

/// The Valkey release that replaces it, and whether its data files load.
fn replacement(release: (u32, u32)) -> String {
    if release <= (7, 2) {
        "Valkey 7.2 is Redis 7.2.4's code under BSD-3-Clause, and every Valkey release loads \
         this release's data as it is: `valkey/valkey:8.1`"
            .to_string()
    } else {
        "Valkey (BSD-3-Clause) does not read Redis 7.4+'s RDB format 12 before 9.0, and 9.0 \
         only best effort with `rdb-version-check relaxed` (valkey#2543): moving to \
         `valkey/valkey:9.0` is a data migration"
            .to_string()
    }
}
