//! `redline serve` and `redline certs generate`: the webhook face's flags.

use super::*;

#[derive(clap::Args)]
pub(super) struct ServeArgs {
    /// Address and port to listen on (`0.0.0.0:8443` in a pod).
    #[arg(long, env = "REDLINE_LISTEN", default_value = "127.0.0.1:8443")]
    listen: std::net::SocketAddr,
    /// PEM certificate chain (leaf first); re-read when it changes.
    #[arg(
        long,
        env = "REDLINE_TLS_CERT",
        requires = "tls_key",
        value_name = "PEM"
    )]
    tls_cert: Option<PathBuf>,
    /// PEM private key of the certificate.
    #[arg(
        long,
        env = "REDLINE_TLS_KEY",
        requires = "tls_cert",
        value_name = "PEM"
    )]
    tls_key: Option<PathBuf>,
    /// Where the generated certificate goes when none is given.
    #[arg(long, env = "REDLINE_CERT_DIR", value_name = "DIR")]
    cert_dir: Option<PathBuf>,
    /// Extra DNS name or IP address for the generated certificate (repeatable).
    #[arg(long = "tls-san", value_name = "NAME")]
    tls_sans: Vec<String>,
    /// How often the certificate files are checked for a change (SIGHUP re-reads at once).
    #[arg(
        long,
        env = "REDLINE_TLS_RELOAD_SECONDS",
        default_value_t = 5,
        value_name = "SECONDS"
    )]
    tls_reload_seconds: u64,
    /// Judge objects with related objects read from the cluster (`auto`: when an in-cluster
    /// or kubeconfig configuration is found).
    #[arg(
        long,
        env = "REDLINE_LOOKUPS",
        default_value = "auto",
        value_name = "WHEN"
    )]
    lookups: LookupsWhen,
    /// Seconds `/readyz` waits for the lookups' caches to sync before it reports ready
    /// anyway (reviews then warn that they were judged without related objects).
    #[arg(
        long,
        env = "REDLINE_LOOKUPS_SYNC_SECONDS",
        default_value_t = 10,
        value_name = "SECONDS"
    )]
    lookups_sync_seconds: u64,
    /// Deny an UPDATE only for errors its old object did not already have (a legacy object
    /// can still be scaled or relabelled).
    #[arg(long, env = "REDLINE_ALLOW_LEGACY_UPDATES")]
    allow_legacy_updates: bool,
    /// Seconds in-flight requests get after SIGTERM.
    #[arg(
        long,
        env = "REDLINE_SHUTDOWN_GRACE_SECONDS",
        default_value_t = 8,
        value_name = "SECONDS"
    )]
    shutdown_grace_seconds: u64,
    /// Log lines as JSON objects or text (`auto`: text on a terminal).
    #[arg(
        long,
        env = "REDLINE_LOG_FORMAT",
        default_value = "auto",
        value_name = "FORMAT"
    )]
    log_format: LogFormat,
    /// What an object redline could not judge gets (deadline, busy, over the memory budget):
    /// keep it equal to the webhook configurations' `failurePolicy`.
    #[arg(
        long,
        env = "REDLINE_FAILURE_POLICY",
        default_value = "Ignore",
        value_name = "POLICY"
    )]
    failure_policy: FailurePolicyArg,
    /// Milliseconds from a review's arrival to its answer (not counting while its body
    /// arrives); past it the review stops and gets the failure policy's answer. Keep it below
    /// the webhooks' `timeoutSeconds`.
    #[arg(long, env = "REDLINE_REVIEW_DEADLINE_MS", value_name = "MS",
          default_value_t = crate::webhook::limits::DEFAULT_DEADLINE.as_millis() as u64)]
    review_deadline_ms: u64,
    /// Reviews judged at once [default: the CPUs the process may use].
    #[arg(long, env = "REDLINE_REVIEW_CONCURRENCY", value_name = "N")]
    review_concurrency: Option<usize>,
    /// MiB all reviews at once may use [default: the cgroup's memory limit less a quarter
    /// (at least 64 MiB), or a quarter of the machine's memory].
    #[arg(long, env = "REDLINE_REVIEW_MEMORY_MIB", value_name = "MIB")]
    review_memory_mib: Option<u64>,
    /// Audit the whole cluster every DURATION (`90s`, `10m`, `1h`; the first at start-up),
    /// as `redline audit --all-namespaces` does, and show its findings on `/metrics` as
    /// `redline_audit_findings{rule,severity,namespace}`. Needs a cluster configuration.
    #[arg(long, env = "REDLINE_AUDIT_INTERVAL", value_name = "DURATION",
          value_parser = parse_duration)]
    audit_interval: Option<std::time::Duration>,
    /// With --audit-interval: create or update a PolicyReport per namespace after each audit.
    #[arg(long, env = "REDLINE_WRITE_REPORTS", requires = "audit_interval")]
    write_reports: bool,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    config: ConfigArgs,
}

/// `90s`, `10m`, `1h30m`: whole numbers of hours, minutes and seconds, at least one second.
pub(super) fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let mut seconds: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => {
                return Err(format!(
                    "`{text}`: expected a duration such as 90s, 10m or 1h"
                ));
            }
        };
        let n: u64 = number
            .parse()
            .map_err(|_| format!("`{text}`: a number must come before `{c}`"))?;
        seconds = n
            .checked_mul(unit)
            .and_then(|s| seconds.checked_add(s))
            .ok_or_else(|| format!("`{text}` is too long"))?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(format!("`{text}`: give a unit (s, m or h) after {number}"));
    }
    if seconds == 0 {
        return Err(format!("`{text}`: the interval must be at least 1s"));
    }
    Ok(std::time::Duration::from_secs(seconds))
}

/// Spelled as the webhook configuration spells `failurePolicy`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum FailurePolicyArg {
    #[value(name = "Ignore")]
    Ignore,
    #[value(name = "Fail")]
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum LookupsWhen {
    Auto,
    On,
    Off,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum LogFormat {
    Auto,
    Json,
    Text,
}

pub(super) fn certs_generate(req: &crate::webhook::certs::Request) -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match crate::webhook::certs::generate(req) {
        Ok(w) => {
            println!(
                "{} CA {}\nserving certificate {} (key {}), valid {} days, for {}\nkustomize component {}",
                if w.kept_ca { "kept the" } else { "wrote a new" },
                w.ca.display(),
                w.cert.display(),
                w.key.display(),
                req.days,
                w.names.join(", "),
                w.component.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("redline certs generate: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

pub(super) fn serve(args: ServeArgs) -> ExitCode {
    use crate::webhook::review::{FailurePolicy, Policy};
    use crate::webhook::{lookups, server, tls::CertFiles};
    use std::io::IsTerminal;
    use std::sync::Arc;
    use std::time::Duration;

    // One crypto provider for the process: two (ring and aws-lc-rs) make rustls panic.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let filter = tracing_subscriber::EnvFilter::try_from_env("REDLINE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match args.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let logger = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        logger.json().flatten_event(true).init();
    } else {
        logger.init();
    }

    let config = match load_config(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // The background audit judges with every enabled rule, as `redline audit` does; the
    // reviews only with those whose `webhook` setting is on.
    let audit_settings = config.settings.clone();
    let policy = Policy {
        options: extract_options(&args.model, &config),
        settings: config.settings.for_webhook(),
        allow_legacy_updates: args.allow_legacy_updates,
        failure_policy: match args.failure_policy {
            FailurePolicyArg::Ignore => FailurePolicy::Ignore,
            FailurePolicyArg::Fail => FailurePolicy::Fail,
        },
    };
    let mut limits = crate::webhook::limits::ReviewLimits::detect();
    limits.deadline = Duration::from_millis(args.review_deadline_ms);
    if let Some(n) = args.review_concurrency {
        limits.concurrency = n.max(1);
    }
    if let Some(mib) = args.review_memory_mib {
        limits.memory_bytes = mib.saturating_mul(1 << 20);
    }
    crate::heap::count_from_now();
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => server::TlsSource::Files(CertFiles { cert, key }),
        _ => {
            let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
            names.extend(args.tls_sans);
            server::TlsSource::Generate {
                dir: args
                    .cert_dir
                    .unwrap_or_else(|| std::env::temp_dir().join("redline-serve")),
                names,
            }
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("redline serve: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let metrics = Arc::new(crate::webhook::metrics::Metrics::default());
    let audit_options = policy.options.clone();
    let result = runtime.block_on(async move {
        let related: Arc<dyn lookups::Related> = match args.lookups {
            LookupsWhen::Off => Arc::new(lookups::NoLookups),
            when => crate::webhook::live::start(when == LookupsWhen::On).await?,
        };
        if let Some(interval) = args.audit_interval {
            start_audit(
                interval,
                args.write_reports,
                audit_options,
                audit_settings,
                metrics.clone(),
            )
            .await?;
        }
        server::run(server::ServeOptions {
            listen: args.listen,
            tls,
            policy,
            lookups: related,
            reload_every: Duration::from_secs(args.tls_reload_seconds.max(1)),
            shutdown_grace: Duration::from_secs(args.shutdown_grace_seconds),
            lookups_sync_deadline: Duration::from_secs(args.lookups_sync_seconds),
            limits,
            metrics,
        })
        .await
    });
    // Whatever the lookups' watchers are doing, the process ends now.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "redline serve failed");
            eprintln!("redline serve: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Start the background audit (`--audit-interval`): its own client, as `redline audit`'s.
#[cfg(feature = "live")]
async fn start_audit(
    interval: std::time::Duration,
    write_reports: bool,
    options: crate::extract::Options,
    settings: crate::engine::Settings,
    metrics: std::sync::Arc<crate::webhook::metrics::Metrics>,
) -> Result<(), String> {
    let (client, _) = crate::audit::list::connect(None, None)
        .await
        .map_err(|e| format!("--audit-interval: {e}"))?;
    tracing::info!(
        interval_seconds = interval.as_secs(),
        write_reports,
        "background audit on"
    );
    tokio::spawn(crate::audit::background::run(
        crate::audit::background::Background {
            client,
            interval,
            options,
            settings,
            write_reports,
            metrics,
        },
    ));
    Ok(())
}

#[cfg(not(feature = "live"))]
async fn start_audit(
    _: std::time::Duration,
    _: bool,
    _: crate::extract::Options,
    _: crate::engine::Settings,
    _: std::sync::Arc<crate::webhook::metrics::Metrics>,
) -> Result<(), String> {
    Err("--audit-interval needs a build with the `live` feature".into())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_read_hours_minutes_and_seconds() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("10").unwrap_err().contains("give a unit"));
        assert!(parse_duration("0s").unwrap_err().contains("at least 1s"));
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("m").is_err());
    }
}
