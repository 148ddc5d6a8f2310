//! The serving certificate: loaded from PEM files and kept fresh, or generated for a local run.
//!
//! Rotation without a restart and without a failed handshake: the files are re-read every few
//! seconds (a mounted Secret changes by an atomic symlink swap, which no inotify on the file
//! itself sees) and on SIGHUP; a pair that loads and matches replaces the rustls config for
//! new handshakes, while handshakes already under way finish with the config they started
//! with. A pair that does not load (the certificate written, the key not yet) keeps the
//! current one and is tried again at the next poll.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum_server::tls_rustls::RustlsConfig;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::metrics::{Metrics, ResultLabels};

/// A certificate and key on disk.
#[derive(Debug, Clone)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A pair that loaded: the rustls config and what the expiry metric needs.
pub struct Loaded {
    pub config: ServerConfig,
    /// The leaf's notAfter, seconds since the Unix epoch.
    pub not_after_unix: i64,
}

/// Build the server config from PEM bytes: the chain (leaf first), one private key that
/// matches the leaf, ALPN h2 and http/1.1. rustls speaks TLS 1.2 and 1.3 only.
pub fn load(cert_pem: &[u8], key_pem: &[u8]) -> Result<Loaded, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the certificate file is not PEM: {e}"))?;
    let Some(leaf) = chain.first() else {
        return Err("the certificate file holds no CERTIFICATE block".into());
    };
    let not_after_unix = not_after(leaf)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| format!("the key file holds no usable private key: {e}"))?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("certificate and key do not make a pair: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Loaded {
        config,
        not_after_unix,
    })
}

fn not_after(leaf: &CertificateDer<'_>) -> Result<i64, String> {
    use x509_cert::der::Decode;
    let cert = x509_cert::Certificate::from_der(leaf.as_ref())
        .map_err(|e| format!("the certificate does not parse: {e}"))?;
    let secs = cert
        .tbs_certificate
        .validity
        .not_after
        .to_unix_duration()
        .as_secs();
    Ok(i64::try_from(secs).unwrap_or(i64::MAX))
}

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Read and load a pair from disk, naming the file that failed.
pub fn read(files: &CertFiles) -> Result<(Loaded, Vec<u8>, Vec<u8>), String> {
    let cert = std::fs::read(&files.cert)
        .map_err(|e| format!("cannot read {}: {e}", files.cert.display()))?;
    let key = std::fs::read(&files.key)
        .map_err(|e| format!("cannot read {}: {e}", files.key.display()))?;
    let loaded = load(&cert, &key)
        .map_err(|e| format!("{} + {}: {e}", files.cert.display(), files.key.display()))?;
    Ok((loaded, cert, key))
}

/// Re-read `files` every `every` and on SIGHUP (`hangup`, registered by the caller before
/// it announces that it listens: until a handler is registered, SIGHUP ends the process);
/// swap the config in when they changed and load. Runs until the task is dropped.
pub async fn keep_fresh(
    rustls: RustlsConfig,
    files: CertFiles,
    mut current: (Vec<u8>, Vec<u8>),
    metrics: Arc<Metrics>,
    every: Duration,
    mut hangup: Option<tokio::signal::unix::Signal>,
) {
    // The last pair that failed: reported once, not at every poll.
    let mut failed: Option<(Vec<u8>, Vec<u8>)> = None;
    loop {
        match hangup.as_mut() {
            Some(h) => {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = h.recv() => tracing::info!("SIGHUP: re-reading the certificate"),
                }
            }
            None => tokio::time::sleep(every).await,
        }
        let (Ok(cert), Ok(key)) = (
            tokio::fs::read(&files.cert).await,
            tokio::fs::read(&files.key).await,
        ) else {
            continue; // mid-swap or gone for a moment: the next poll sees it
        };
        let pair = (cert, key);
        if pair == current || failed.as_ref() == Some(&pair) {
            continue;
        }
        match load(&pair.0, &pair.1) {
            Ok(loaded) => {
                rustls.reload_from_config(Arc::new(loaded.config));
                metrics.set_not_after(loaded.not_after_unix);
                metrics
                    .tls_reloads
                    .get_or_create(&ResultLabels { result: "ok" })
                    .inc();
                tracing::info!(
                    cert = %files.cert.display(),
                    expires_in_days = (loaded.not_after_unix - now_unix()) / 86_400,
                    "serving a new certificate"
                );
                current = pair;
                failed = None;
            }
            Err(e) => {
                metrics
                    .tls_reloads
                    .get_or_create(&ResultLabels { result: "error" })
                    .inc();
                tracing::warn!(
                    cert = %files.cert.display(),
                    error = %e,
                    "the certificate files changed but do not load; still serving the previous certificate"
                );
                failed = Some(pair);
            }
        }
    }
}

/// A CA and a serving certificate signed by it, as PEM.
pub struct Generated {
    pub ca_cert_pem: String,
    pub ca_key_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

const CA_NAME: &str = "redline webhook CA";

fn rcgen_error(e: rcgen::Error) -> String {
    format!("cannot generate a certificate: {e}")
}

/// The CA's parameters. Its subject and key identifier method are all a leaf's issuer name
/// and authority key identifier depend on, so a CA key written by an earlier run signs
/// leaves that chain to the CA certificate written then.
fn ca_params(days: i64) -> Result<rcgen::CertificateParams, String> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyUsagePurpose,
    };
    let now = time::OffsetDateTime::now_utc();
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(rcgen_error)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name.push(DnType::CommonName, CA_NAME);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    // An hour of slack for clocks behind ours.
    ca.not_before = now - time::Duration::hours(1);
    ca.not_after = now + time::Duration::days(days);
    Ok(ca)
}

/// A serving certificate for `names` (DNS names or IP addresses), valid `days`, signed by
/// the CA whose key is `ca_key_pem`: (certificate PEM, key PEM).
pub fn issue(names: &[String], days: i64, ca_key_pem: &str) -> Result<(String, String), String> {
    use rcgen::{
        CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair,
        KeyUsagePurpose,
    };
    let ca_key =
        KeyPair::from_pem(ca_key_pem).map_err(|e| format!("the CA key does not load: {e}"))?;
    let issuer = Issuer::new(ca_params(1)?, ca_key);
    let now = time::OffsetDateTime::now_utc();
    let mut leaf = CertificateParams::new(names.to_vec()).map_err(rcgen_error)?;
    leaf.distinguished_name = DistinguishedName::new();
    if let Some(first) = names.first() {
        leaf.distinguished_name
            .push(DnType::CommonName, first.as_str());
    }
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = now - time::Duration::hours(1);
    leaf.not_after = now + time::Duration::days(days);
    let leaf_key = KeyPair::generate().map_err(rcgen_error)?;
    let cert = leaf.signed_by(&leaf_key, &issuer).map_err(rcgen_error)?;
    Ok((cert.pem(), leaf_key.serialize_pem()))
}

/// Generate a CA (valid `ca_days`) and a serving certificate for `names` (valid
/// `leaf_days`). ECDSA P-256, which every API server accepts.
pub fn generate(names: &[String], ca_days: i64, leaf_days: i64) -> Result<Generated, String> {
    let ca_key = rcgen::KeyPair::generate().map_err(rcgen_error)?;
    let ca_cert = ca_params(ca_days)?
        .self_signed(&ca_key)
        .map_err(rcgen_error)?;
    let ca_key_pem = ca_key.serialize_pem();
    let (cert_pem, key_pem) = issue(names, leaf_days, &ca_key_pem)?;
    Ok(Generated {
        ca_cert_pem: ca_cert.pem(),
        ca_key_pem,
        cert_pem,
        key_pem,
    })
}

/// Whether `cert_pem` (a leaf) chains to `ca_pem` for `name` now, as a TLS client checks it.
pub fn verify_chain(cert_pem: &[u8], ca_pem: &[u8], name: &str) -> Result<(), String> {
    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier as _;
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(ca_pem) {
        roots
            .add(ca.map_err(|e| format!("the CA is not PEM: {e}"))?)
            .map_err(|e| format!("the CA is not usable: {e}"))?;
    }
    let verifier = WebPkiServerVerifier::builder(Arc::new(roots))
        .build()
        .map_err(|e| format!("cannot build a verifier: {e}"))?;
    let leaf = CertificateDer::from_pem_slice(cert_pem)
        .map_err(|e| format!("the certificate is not PEM: {e}"))?;
    let server_name = rustls::pki_types::ServerName::try_from(name.to_string())
        .map_err(|e| format!("{name}: {e}"))?;
    verifier
        .verify_server_cert(
            &leaf,
            &[],
            &server_name,
            &[],
            rustls::pki_types::UnixTime::now(),
        )
        .map(|_| ())
        .map_err(|e| format!("the certificate does not chain to the CA for {name}: {e}"))
}

/// The files a local `serve` generates when given no certificate.
#[derive(Debug, Clone)]
pub struct DevCerts {
    pub ca: PathBuf,
    pub files: CertFiles,
}

/// Generate a CA and a serving certificate for `names` into `dir` (created 0700; keys
/// written 0600, each file atomically): `ca.crt`, `tls.crt`, `tls.key`. The CA key is not
/// kept: a local run needs only to trust the CA.
pub fn write_dev_certs(dir: &Path, names: &[String]) -> Result<DevCerts, String> {
    let generated = generate(names, 30, 30)?;
    create_private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let ca = dir.join("ca.crt");
    let files = CertFiles {
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
    };
    write_private(&ca, generated.ca_cert_pem.as_bytes())?;
    write_private(&files.key, generated.key_pem.as_bytes())?;
    write_private(&files.cert, generated.cert_pem.as_bytes())?;
    Ok(DevCerts { ca, files })
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Write `bytes` to `path` through a 0600 temporary file in the same directory and a rename,
/// so a reader never sees half a key.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let fail = |e: io::Error| format!("cannot write {}: {e}", path.display());
    // tempfile creates the file 0600.
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }

    #[test]
    fn generated_pair_loads_and_expires_when_asked() {
        provider();
        let g = generate(&["localhost".into(), "127.0.0.1".into()], 10, 2).unwrap();
        let loaded = load(g.cert_pem.as_bytes(), g.key_pem.as_bytes()).unwrap();
        let days = (loaded.not_after_unix - now_unix()) as f64 / 86_400.0;
        assert!((1.9..=2.01).contains(&days), "{days}");
        assert_eq!(loaded.config.alpn_protocols[0], b"h2");
    }

    #[test]
    fn mismatched_or_broken_pairs_are_refused_with_a_reason() {
        provider();
        let a = generate(&["a.example".into()], 1, 1).unwrap();
        let b = generate(&["b.example".into()], 1, 1).unwrap();
        let e = load(a.cert_pem.as_bytes(), b.key_pem.as_bytes())
            .err()
            .unwrap();
        assert!(e.contains("do not make a pair"), "{e}");
        let e = load(b"", a.key_pem.as_bytes()).err().unwrap();
        assert!(e.contains("no CERTIFICATE"), "{e}");
        let e = load(a.cert_pem.as_bytes(), b"junk").err().unwrap();
        assert!(e.contains("private key"), "{e}");
        // Half a certificate (a write caught mid-way).
        let half = &a.cert_pem.as_bytes()[..a.cert_pem.len() / 2];
        assert!(load(half, a.key_pem.as_bytes()).is_err());
    }

    #[test]
    fn a_kept_ca_key_signs_leaves_that_chain_to_the_kept_ca_certificate() {
        provider();
        let g = generate(&["redline.redline-system.svc".into()], 10, 1).unwrap();
        verify_chain(
            g.cert_pem.as_bytes(),
            g.ca_cert_pem.as_bytes(),
            "redline.redline-system.svc",
        )
        .unwrap();
        let (again, _) = issue(&["redline.redline-system.svc".into()], 1, &g.ca_key_pem).unwrap();
        verify_chain(
            again.as_bytes(),
            g.ca_cert_pem.as_bytes(),
            "redline.redline-system.svc",
        )
        .unwrap();
        let other = generate(&["x".into()], 1, 1).unwrap();
        assert!(
            verify_chain(
                again.as_bytes(),
                other.ca_cert_pem.as_bytes(),
                "redline.redline-system.svc"
            )
            .is_err()
        );
        assert!(verify_chain(again.as_bytes(), g.ca_cert_pem.as_bytes(), "other.example").is_err());
    }

    #[test]
    fn dev_certs_are_private_files() {
        use std::os::unix::fs::PermissionsExt;
        provider();
        let dir = tempfile::tempdir().unwrap();
        let certs = write_dev_certs(&dir.path().join("d"), &["localhost".into()]).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("d")), 0o700);
        assert_eq!(mode(&certs.files.key), 0o600);
        assert!(read(&certs.files).is_ok());
    }
}
