//! ## redis-readiness-probe-missing
//!
//! **What it does.** Finds Redis containers without a readinessProbe.
//!
//! **Why it matters.** Without one a pod is Ready as soon as its container starts: Services
//! send clients to a Redis that is still loading its dataset (`-LOADING`), a replica still
//! syncing, or a cluster node whose cluster is not formed. Rolling updates do not wait for
//! the new pod to serve before stopping the next.
//!
//! **Fix.** Adds `redis-cli ping | grep -q PONG` (with `REDISCLI_AUTH` from the container's
//! password variable when auth is on), period 10 s, timeout 5 s. No fix where auth is on and
//! no password variable is visible, or only TLS is served: a TCP check would pass while Redis
//! loads, which is what the probe is for. Pods an operator writes (KubeBlocks'
//! ComponentDefinition, OT, Spotahome, valkey-operator) always get the operator's readiness
//! probe, which the model holds: they are not reported.
use crate::model::Deployment;
use serde_json::json;

use super::facts;
use super::fixes::{add_probe, ping_handler};
use super::{Context, NoParams, Rule, Violation};

pub struct Check;

impl Rule for Check {
    type Params = NoParams;

    fn deployment(&self, cx: &Context, d: &Deployment, out: &mut Vec<Violation>) {
        let Some(c) = facts::data_container(d) else { return };
        if c.probes.readiness.is_some() || facts::cluster_unknown(d) {
            return;
        }
        // Operators write a readiness probe into the pods they manage (KubeBlocks'
        // ComponentDefinition, OT, Spotahome, valkey-operator), and the model holds it: only
        // the user's own pods can lack one.
        if !facts::user_owns_pods(d) {
            return;
        }
        let mut probe = ping_handler(d, c);
        if let Some(map) = probe.as_mut().and_then(|p| p.as_object_mut()) {
            for (k, v) in [("periodSeconds", 10), ("timeoutSeconds", 5), ("failureThreshold", 3)] {
                map.insert(k.into(), json!(v));
            }
        }
        // Say why there is no fix: a TCP check would pass while loading, and a PING without
        // the password fails on -NOAUTH.
        let no_fix = match &probe {
            Some(_) => "",
            None if facts::tls_only(d) => {
                "; no fix: only TLS is served, and a TCP check passes while it loads"
            }
            None if facts::auth(d) == Some(true) => {
                "; no fix: a PING needs the password, and no environment variable here holds \
                 it"
            }
            None => {
                "; no fix: whether a PING needs a password is not visible here, and no \
                 environment variable holds one"
            }
        };
        out.push(
            Violation::new(
                c.at.clone(),
                format!(
                    "container `{}` has no readinessProbe: the pod receives traffic while {} \
                     is still loading its data or syncing{no_fix}",
                    c.name,
                    d.engine
                ),
            )
            .fix(probe.and_then(|p| add_probe(cx.inventory, c, "readinessProbe", p))),
        );
    }
}
