//! A running `redline serve` for the end-to-end tests, the fault tests and the load
//! benchmark (`#[path]`-included by each): the real binary on a loopback port, spoken to
//! over TLS by a rustls client that trusts only the server's CA.

#![allow(dead_code)] // each includer uses part of it

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_redline");

pub fn provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A running `redline serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub ca: PathBuf,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Start with a generated certificate in `dir` unless `args` names one (then `ca` is
    /// the CA to trust).
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)], ca: Option<&Path>) -> Server {
        provider();
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(["--cert-dir", dir.join("dev").to_str().unwrap()])
            .args(args)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env("KUBECONFIG", dir.join("no-kubeconfig"))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut lines = sink.lock().unwrap();
                // Bounded for the load benchmark's millions of lines; tests read far fewer.
                if lines.len() >= 200_000 {
                    lines.drain(..100_000);
                }
                lines.push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let found = logs.lock().unwrap().iter().find_map(|l| {
                let v: Value = serde_json::from_str(l).ok()?;
                v.get("address")?.as_str()?.parse::<SocketAddr>().ok()
            });
            if let Some(a) = found {
                break a;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).ok();
                panic!(
                    "serve exited ({status}) before listening: {err} {:?}",
                    logs.lock().unwrap()
                );
            }
            assert!(
                Instant::now() < deadline,
                "serve did not listen: {:?}",
                logs.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let ca = ca
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.join("dev/ca.crt"));
        Server {
            child,
            addr,
            ca,
            logs,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    /// A client that trusts only the server's CA (and `extra` CAs).
    pub fn client_with(&self, extra: &[&Path], builder: reqwest::ClientBuilder) -> reqwest::Client {
        let certs = std::iter::once(self.ca.as_path())
            .chain(extra.iter().copied())
            .map(|p| reqwest::Certificate::from_pem(&std::fs::read(p).unwrap()).unwrap());
        builder
            .tls_certs_only(certs)
            .resolve("localhost", self.addr)
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    }

    pub fn client(&self) -> reqwest::Client {
        self.client_with(&[], reqwest::Client::builder())
    }

    pub async fn metrics(&self, client: &reqwest::Client) -> String {
        let r = client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    }

    /// The log lines once `done` holds for them: a line is read from the child's output a
    /// moment after the response it logs was sent, so a test that checks logs waits for
    /// them (30 s at most, then fails naming `what`).
    pub fn logs_when(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let logs = self.logs();
            if done(&logs) {
                return logs;
            }
            assert!(
                Instant::now() < deadline,
                "no log lines for {what}: {logs:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn logs(&self) -> Vec<Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    /// SIGTERM, then the exit status and how long it took.
    pub fn terminate(&mut self) -> (std::process::ExitStatus, Duration) {
        let sent = Instant::now();
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.pid(), libc::SIGTERM) }, 0);
        let deadline = sent + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, sent.elapsed());
            }
            assert!(
                Instant::now() < deadline,
                "serve did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The runtime the tests drive their clients on.
pub fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
