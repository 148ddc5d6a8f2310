//! ## redis-no-auth-exposed
//!
//! **What it does.** Finds Redis servers that accept connections from other pods with no
//! authentication: no `requirepass`, no password on the `default` ACL user, no ACL file, no
//! password passed from the environment — with protected mode off and a `bind` that is not
//! loopback-only (unset binds every interface).
//!
//! **Why it matters.** Any pod in the cluster (and anything a NetworkPolicy lets in) can
//! read, change or delete every key, and `CONFIG SET dir` / `SAVE` style attacks can write
//! files as the Redis user. Protected mode is the safety net for exactly this case, but the
//! official `redis` and `valkey/valkey` Docker images are built with protected mode **off**
//! by default, so a configuration without `protected-mode yes` on those images is exposed.
//!
//! Operators (KubeBlocks, OT, Spotahome) wire passwords from Secrets outside redis.conf, so
//! their deployments are not judged. valkey-operator is: it writes `protected-mode no` and an
//! ACL file of `spec.users`, and Valkey creates a `default` user missing from an ACL file as
//! `on nopass ~* &* +@all` (`src/acl.c` of Redis and Valkey, `ACLLoadFromFile`), so a
//! ValkeyCluster without an enabled `default` user with a password is open.
//!
//! **Fix.** None automatic (a password belongs in a Secret): pass `--requirepass
//! $(REDIS_PASSWORD)` from a Secret, or define ACL users (on a ValkeyCluster, a `default`
//! user with a `passwordSecret`), and restrict access with a NetworkPolicy.
use crate::model::{Deployment, Platform};

use super::facts;
use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        if !facts::data_role(d) || facts::auth(d) != Some(false) {
            return;
        }
        let Some(c) = d.redis_container() else { return };
        let (protected, protected_at, why) = match d.config.redis.line_of("protected-mode") {
            Some(line) => (
                d.config.redis.bool_value("protected-mode"),
                facts::arg_loc(d, line, 0),
                "protected-mode no",
            ),
            // Dragonfly has no protected mode: without a password it answers every client
            // on every address it binds. On a Dragonfly resource the finding goes where the
            // password would be set.
            None if d.platform == Platform::DragonflyOperator => (
                false,
                Some(cx.inventory.absent_loc(d.object, "/spec", "authentication")),
                official_default(d),
            ),
            // The Docker Official Images (`redis`, `valkey/valkey`) are built with
            // protected-mode's default patched to `no` (docker-library/redis and
            // valkey-io/valkey-container Dockerfiles: "disable Redis protected mode [1] as it
            // is unnecessary in context of Docker"), and so is KeyDB's (its
            // pkg/docker/Dockerfile: "disable protected mode as it relates to docker").
            None if d.engine == crate::model::Product::Dragonfly
                || c.official_image()
                || c.image_ref().is_some_and(|i| i.is_keydb()) =>
            (
                false,
                c.image.as_ref().map(|i| i.at.clone()),
                official_default(d),
            ),
            None => return,
        };
        if protected {
            return;
        }
        let bind = d.config.redis.bind();
        let loopback_only = bind.as_ref().is_some_and(|addrs| {
            !addrs.is_empty()
                && addrs.iter().all(|a| {
                    matches!(a.trim_start_matches('-'), "127.0.0.1" | "::1" | "localhost")
                })
        });
        if loopback_only {
            return;
        }
        let bind_text = match &bind {
            None => "bind unset (all interfaces)".to_string(),
            Some(a) => format!("bind {}", a.join(" ")),
        };
        let remedy = match (d.platform, d.engine) {
            // dragonfly-operator v1.5.0+ creates a NetworkPolicy (unless
            // `networkPolicyEnabled: false`) that admits port 6379 from its namespace only.
            (Platform::DragonflyOperator, _)
                if cx.inventory.str_at(d.object, "/spec/networkPolicyEnabled") != Some("false") =>
            {
                "set spec.authentication.passwordFromSecret (from dragonfly-operator v1.5.0 \
                 its NetworkPolicy admits clients of the same namespace only; any pod there \
                 can still read and write every key)"
            }
            (Platform::DragonflyOperator, _) => {
                "set spec.authentication.passwordFromSecret, and a NetworkPolicy \
                 (networkPolicyEnabled is false: the operator creates none)"
            }
            (_, crate::model::Product::Dragonfly) => {
                "set a password from a Secret (the environment variable `DFLY_requirepass`, \
                 which dragonfly reads as --requirepass), and a NetworkPolicy"
            }
            (Platform::ValkeyOperator, _) => {
                "add a `default` user with a passwordSecret to spec.users (the operator \
                 writes protected-mode no), and a NetworkPolicy"
            }
            _ => {
                "set a password from a Secret (`--requirepass $(REDIS_PASSWORD)`) or ACL \
                 users, and a NetworkPolicy"
            }
        };
        // An ACL file the model read and found open says so; else nothing sets a password.
        let no_password = match d.config.open_acl_files.first() {
            Some(path) if d.platform != Platform::ValkeyOperator => format!(
                "no requirepass, and the ACL file {path} leaves the `default` user without a \
                 password"
            ),
            _ => "no requirepass or ACL user".to_string(),
        };
        out.push(Violation::new(
            protected_at.unwrap_or_else(|| c.at.clone()),
            format!(
                "{} accepts any client without a password: {no_password}, {why}, \
                 {bind_text}; {remedy}",
                d.engine
            ),
        ));
    }
}

fn official_default(d: &Deployment) -> &'static str {
    match d.engine {
        crate::model::Product::Valkey => {
            "protected mode off (the official valkey/valkey image's built-in default)"
        }
        crate::model::Product::Redis => {
            "protected mode off (the official redis image's built-in default)"
        }
        crate::model::Product::KeyDb => {
            "protected mode off (the eqalpha/keydb image's built-in default)"
        }
        crate::model::Product::Dragonfly => "no protected mode (Dragonfly has none)",
    }
}
