//! `redline certs generate`: a CA and a serving certificate for the webhook's Service, and the
//! kustomize component that installs them (the TLS Secret and the webhooks' caBundle).
//!
//! Rotation: run it again. While `ca.crt` and `ca.key` are in the directory, the CA is kept
//! and only the serving certificate is renewed, so the caBundle the API server trusts does
//! not change and the running pods pick the new Secret up without a restart (the server
//! re-reads its files). `--new-ca` replaces the CA too (then apply the whole overlay again).

use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::tls;

pub struct Request<'a> {
    pub service: &'a str,
    pub namespace: &'a str,
    pub out: &'a Path,
    pub days: i64,
    pub ca_days: i64,
    pub new_ca: bool,
}

pub struct Written {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub component: PathBuf,
    pub names: Vec<String>,
    /// Whether an existing CA signed the new certificate.
    pub kept_ca: bool,
}

/// The DNS names the API server may use for `service.namespace`.
pub fn service_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
        format!("{service}.{namespace}"),
        service.to_string(),
    ]
}

pub fn generate(req: &Request) -> Result<Written, String> {
    let names = service_names(req.service, req.namespace);
    std::fs::create_dir_all(req.out)
        .map_err(|e| format!("cannot create {}: {e}", req.out.display()))?;
    let ca = req.out.join("ca.crt");
    let ca_key = req.out.join("ca.key");
    let kept = if req.new_ca {
        None
    } else {
        match (
            std::fs::read_to_string(&ca),
            std::fs::read_to_string(&ca_key),
        ) {
            (Ok(c), Ok(k)) => Some((c, k)),
            _ => None,
        }
    };
    let (ca_pem, ca_key_pem, cert_pem, key_pem) = match &kept {
        Some((ca_pem, ca_key_pem)) => {
            let (cert, key) = tls::issue(&names, req.days, ca_key_pem)
                .map_err(|e| format!("{}: {e}", ca_key.display()))?;
            (ca_pem.clone(), ca_key_pem.clone(), cert, key)
        }
        None => {
            let g = tls::generate(&names, req.ca_days, req.days)?;
            (g.ca_cert_pem, g.ca_key_pem, g.cert_pem, g.key_pem)
        }
    };
    // The CA kept must be the one the key belongs to: a leaf that does not chain to the
    // caBundle would fail every admission call.
    tls::verify_chain(cert_pem.as_bytes(), ca_pem.as_bytes(), &names[0]).map_err(|e| {
        format!(
            "{e}; {} and {} are not a CA this command wrote: use --new-ca",
            ca.display(),
            ca_key.display()
        )
    })?;
    let cert = req.out.join("tls.crt");
    let key = req.out.join("tls.key");
    let component = req.out.join("kustomization.yaml");
    if kept.is_none() {
        tls::write_private(&ca_key, ca_key_pem.as_bytes())?;
        tls::write_private(&ca, ca_pem.as_bytes())?;
    }
    tls::write_private(&key, key_pem.as_bytes())?;
    tls::write_private(&cert, cert_pem.as_bytes())?;
    tls::write_private(&component, kustomization(req, &ca_pem).as_bytes())?;
    Ok(Written {
        ca,
        cert,
        key,
        component,
        names,
        kept_ca: kept.is_some(),
    })
}

/// A kustomize Component: the TLS Secret from the files beside it, and the CA as the
/// webhooks' caBundle.
fn kustomization(req: &Request, ca_pem: &str) -> String {
    let bundle = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let patch = |kind: &str, name: &str| {
        format!(
            "  - target:\n      kind: {kind}\n      name: {name}\n    patch: |-\n      \
             - op: add\n        path: /webhooks/0/clientConfig/caBundle\n        value: {bundle}\n"
        )
    };
    format!(
        "# Written by `redline certs generate --service {service} --namespace {namespace}`.\n\
         # Holds no key: the Secret is generated from tls.crt/tls.key beside this file.\n\
         apiVersion: kustomize.config.k8s.io/v1alpha1\n\
         kind: Component\n\
         secretGenerator:\n  \
           - name: redline-tls\n    \
             namespace: {namespace}\n    \
             type: kubernetes.io/tls\n    \
             files:\n      \
               - tls.crt\n      \
               - tls.key\n    \
             options:\n      \
               disableNameSuffixHash: true\n\
         patches:\n{validating}{mutating}",
        service = req.service,
        namespace = req.namespace,
        validating = patch("ValidatingWebhookConfiguration", "redline"),
        mutating = patch("MutatingWebhookConfiguration", "redline"),
    )
}
