//! The `redline` command line: arguments and exit codes only; the work is in the library.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Building the model allocates many small strings and trees; mimalloc makes `redline lint`
/// about a quarter faster than glibc's allocator on the corpus benchmark (BENCHMARKS.md).
/// `serve` counts it per thread: the webhook's memory budget stops a review that holds more
/// than its reservation (`redline::heap`).
#[global_allocator]
static ALLOCATOR: redline::heap::Counting<mimalloc::MiMalloc> =
    redline::heap::Counting(mimalloc::MiMalloc);

/// Keeps Redis on Kubernetes from falling over: finds the settings that get Redis pods
/// OOM-killed or crash-looping, before they reach a cluster.
#[derive(Parser)]
#[command(name = "redline", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint manifests (files, directories, or `-` for stdin) and report findings.
    Lint {
        /// Files or directories to lint; `-` reads standard input.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print the model redline builds of the input (every value with its file position
        /// and origin) instead of findings.
        #[arg(long)]
        dump_model: bool,
        #[command(flatten)]
        input: InputArgs,
        /// Exit with 1 when a finding is at or above this severity (`never`: only documents
        /// that do not load fail the run).
        #[arg(long, default_value = "error", value_name = "SEVERITY")]
        fail_on: FailOn,
        /// Output format.
        #[arg(long, default_value = "human", value_name = "FORMAT")]
        format: redline::report::Format,
        /// Write the report to FILE instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Colour in the human format: `auto` colours a terminal unless `NO_COLOR` is set.
        #[arg(long, default_value = "auto", value_name = "WHEN")]
        color: ColorWhen,
    },
    /// Write the fixes of fixable findings back into the files, changing only what must
    /// change; print the manifests of fixes that belong in objects the files do not hold.
    ///
    /// Exit status: 0 nothing left to do; 1 something is (with --check or --diff: a file
    /// would change; always: a manifest to apply, a fix that could not be written in place,
    /// a file that does not load); 2 usage, configuration or I/O error.
    Fix {
        /// Files or directories to fix; `-` reads standard input and writes the fixed text
        /// to standard output.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print a unified diff of what would change; write nothing.
        #[arg(long)]
        diff: bool,
        /// Write nothing; list the files that would change and exit 1 if any would.
        #[arg(long, conflicts_with = "diff")]
        check: bool,
        /// Apply only the fixes of this rule (repeatable).
        #[arg(long = "rule", value_name = "ID")]
        rules: Vec<String>,
        #[command(flatten)]
        input: InputArgs,
    },
    /// Run the HTTPS admission webhook: `POST /validate`, `POST /mutate`, `GET /healthz`,
    /// `/readyz`, `/metrics`. With no certificate given, a CA and a certificate for
    /// localhost are generated and the CA file's path is logged.
    Serve(ServeArgs),
    /// List every rule with its severity and summary.
    Rules {
        /// `text` or `json`.
        #[arg(long, default_value = "text")]
        format: RulesFormat,
    },
    /// Explain one rule: what it checks, why, and how to fix it.
    Explain {
        /// The rule ID, e.g. redis-maxmemory-headroom.
        rule: String,
    },
    /// Certificates for the webhook's Service.
    Certs {
        #[command(subcommand)]
        action: CertsAction,
    },
    /// Read a redis.conf (plus redis-server arguments) the way redis-server does, and print the
    /// effective settings and every line redis-server would refuse.
    #[command(name = "check-conf")]
    CheckConf {
        /// The redis.conf file.
        file: PathBuf,
        /// The release whose directive table judges the file: `redis-6.2`, `redis-7.0`,
        /// `redis-7.2`, `redis-7.4`, `redis-8.0`, `valkey-7.2`, `valkey-8.0`, `valkey-8.1`.
        #[arg(long, default_value = "redis-7.0", value_parser = parse_release)]
        release: &'static redline::redisconf::Release,
        /// redis-server command-line options after the file, e.g. `-- --maxmemory 2gb`.
        #[arg(last = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum CertsAction {
    /// Write a CA (`ca.crt`, `ca.key`), a serving certificate for the Service (`tls.crt`,
    /// `tls.key`) and a kustomize component (`kustomization.yaml`: the TLS Secret and the
    /// webhooks' caBundle) for `manifests/overlays/self-signed`. Run again to renew the
    /// serving certificate: the CA in the directory is kept, so the caBundle does not change.
    Generate {
        /// The webhook's Service name.
        #[arg(long, default_value = "redline")]
        service: String,
        /// The webhook's namespace.
        #[arg(long, default_value = "redline-system")]
        namespace: String,
        /// The directory to write (the self-signed overlay reads `certs/`).
        #[arg(long, default_value = "certs")]
        out: PathBuf,
        /// Validity of the serving certificate.
        #[arg(long, default_value_t = 365)]
        days: i64,
        /// Validity of a new CA.
        #[arg(long, default_value_t = 3650)]
        ca_days: i64,
        /// Replace the CA as well (the caBundle changes: apply the overlay again).
        #[arg(long)]
        new_ca: bool,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
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
          default_value_t = redline::webhook::limits::DEFAULT_DEADLINE.as_millis() as u64)]
    review_deadline_ms: u64,
    /// Reviews judged at once [default: the CPUs the process may use].
    #[arg(long, env = "REDLINE_REVIEW_CONCURRENCY", value_name = "N")]
    review_concurrency: Option<usize>,
    /// MiB all reviews at once may use [default: the cgroup's memory limit less a quarter
    /// (at least 64 MiB), or a quarter of the machine's memory].
    #[arg(long, env = "REDLINE_REVIEW_MEMORY_MIB", value_name = "MIB")]
    review_memory_mib: Option<u64>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Spelled as the webhook configuration spells `failurePolicy`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailurePolicyArg {
    #[value(name = "Ignore")]
    Ignore,
    #[value(name = "Fail")]
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LookupsWhen {
    Auto,
    On,
    Off,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Auto,
    Json,
    Text,
}

/// What is read and how: shared by `lint` and `fix`.
#[derive(clap::Args)]
struct InputArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    walk: WalkArgs,
}

/// How the model is built where the input does not say.
#[derive(clap::Args)]
struct ModelArgs {
    /// How KubeBlocks computes maxmemory when nothing sets it: `limit:0.8` (redis addon
    /// 1.0.2+ and 0.9.5+), `request` (addons 0.5 to 1.0.1) or `none`. Overrides the
    /// configuration file.
    #[arg(long, value_name = "RULE")]
    kubeblocks_maxmemory: Option<redline::extract::KubeBlocksMaxmemory>,
}

/// Where the configuration comes from.
#[derive(clap::Args)]
struct ConfigArgs {
    /// The configuration file (default: `.redline.yaml` in the working directory or the
    /// nearest parent that has one).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore `redline.dev/ignore` annotations: report every finding.
    #[arg(long)]
    no_annotation_exemptions: bool,
}

/// Which files of the directories named are read.
#[derive(clap::Args)]
struct WalkArgs {
    /// Leave out paths matching this gitignore-style glob (repeatable), directories walked
    /// and files named alike: `--exclude 'charts/**' --exclude '*.tmpl.yaml'`.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Read files that `.gitignore`/`.ignore` files leave out.
    #[arg(long)]
    no_ignore: bool,
}

impl From<WalkArgs> for redline::input::Walk {
    fn from(w: WalkArgs) -> Self {
        redline::input::Walk {
            exclude: w.exclude,
            no_ignore: w.no_ignore,
        }
    }
}

/// The command line's `--kubeblocks-maxmemory` over the configuration file's.
fn extract_options(
    model: &ModelArgs,
    config: &redline::config::UserConfig,
) -> redline::extract::Options {
    redline::extract::Options {
        kubeblocks_maxmemory: model
            .kubeblocks_maxmemory
            .or(config.kubeblocks_maxmemory)
            .unwrap_or(redline::extract::Options::default().kubeblocks_maxmemory),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RulesFormat {
    Text,
    Json,
}

/// Exit code for usage, configuration and I/O errors.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lint {
            paths,
            dump_model,
            input:
                InputArgs {
                    model,
                    config,
                    walk,
                },
            fail_on,
            format,
            output,
            color,
        } => {
            let config = match load_config(&config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let opts = extract_options(&model, &config);
            let walk = walk.into();
            if dump_model {
                dump_model_of(&paths, &walk, &opts)
            } else {
                let out = Output {
                    format,
                    file: output,
                    color,
                    fail_on,
                };
                lint(&paths, &walk, &opts, &config, &out)
            }
        }
        Command::Fix {
            paths,
            diff,
            check,
            rules,
            input:
                InputArgs {
                    model,
                    config,
                    walk,
                },
        } => {
            let mode = match (diff, check) {
                (true, _) => redline::fix::report::Mode::Diff,
                (_, true) => redline::fix::report::Mode::Check,
                _ => redline::fix::report::Mode::Write,
            };
            let config = match load_config(&config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let opts = extract_options(&model, &config);
            fix(&paths, &walk.into(), &opts, &config, &rules, mode)
        }
        Command::Serve(args) => serve(args),
        Command::Rules { format } => list_rules(format),
        Command::Explain { rule } => explain(&rule),
        Command::Certs {
            action:
                CertsAction::Generate {
                    service,
                    namespace,
                    out,
                    days,
                    ca_days,
                    new_ca,
                },
        } => certs_generate(&redline::webhook::certs::Request {
            service: &service,
            namespace: &namespace,
            out: &out,
            days,
            ca_days,
            new_ca,
        }),
        Command::CheckConf {
            file,
            release,
            args,
        } => check_conf(&file, release, &args),
    }
}

fn certs_generate(req: &redline::webhook::certs::Request) -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match redline::webhook::certs::generate(req) {
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

fn serve(args: ServeArgs) -> ExitCode {
    use redline::webhook::review::{FailurePolicy, Policy};
    use redline::webhook::{lookups, server, tls::CertFiles};
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
    let policy = Policy {
        options: extract_options(&args.model, &config),
        settings: config.settings,
        allow_legacy_updates: args.allow_legacy_updates,
        failure_policy: match args.failure_policy {
            FailurePolicyArg::Ignore => FailurePolicy::Ignore,
            FailurePolicyArg::Fail => FailurePolicy::Fail,
        },
    };
    let mut limits = redline::webhook::limits::ReviewLimits::detect();
    limits.deadline = Duration::from_millis(args.review_deadline_ms);
    if let Some(n) = args.review_concurrency {
        limits.concurrency = n.max(1);
    }
    if let Some(mib) = args.review_memory_mib {
        limits.memory_bytes = mib.saturating_mul(1 << 20);
    }
    redline::heap::count_from_now();
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
    let result = runtime.block_on(async move {
        let related: Arc<dyn lookups::Related> = match args.lookups {
            LookupsWhen::Off => Arc::new(lookups::NoLookups),
            when => redline::webhook::live::start(when == LookupsWhen::On).await?,
        };
        server::run(server::ServeOptions {
            listen: args.listen,
            tls,
            policy,
            lookups: related,
            reload_every: Duration::from_secs(args.tls_reload_seconds.max(1)),
            shutdown_grace: Duration::from_secs(args.shutdown_grace_seconds),
            lookups_sync_deadline: Duration::from_secs(args.lookups_sync_seconds),
            limits,
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

/// The configuration file named, or discovered from the working directory, or the defaults.
fn load_config(args: &ConfigArgs) -> Result<redline::config::UserConfig, ExitCode> {
    let path = args.config.clone().or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| redline::config::discover(&d))
    });
    let mut config = match path {
        Some(p) => redline::config::read(&p).map_err(|e| {
            eprintln!("redline: configuration error: {e}");
            ExitCode::from(EXIT_USAGE)
        })?,
        None => redline::config::UserConfig::default(),
    };
    if args.no_annotation_exemptions {
        config.settings.annotation_exemptions = false;
    }
    Ok(config)
}

/// Read every input; an unreadable one is a usage/I-O error (exit 2), all of them reported.
fn read_sources(
    paths: &[PathBuf],
    walk: &redline::input::Walk,
) -> Result<Vec<redline::source::SourceFile>, ExitCode> {
    let files = redline::input::expand_paths(paths, walk).map_err(|e| {
        eprintln!("redline: {e}");
        ExitCode::from(EXIT_USAGE)
    })?;
    redline::input::read_all(&files, &redline::source::Limits::default()).map_err(|errors| {
        for e in errors {
            eprintln!("redline: {e}");
        }
        ExitCode::from(EXIT_USAGE)
    })
}

/// Nothing to read is not an error (a directory may legitimately hold no manifests yet), but
/// never silent: an --exclude or .gitignore that leaves out everything looks like success.
fn warn_if_empty(paths: &[PathBuf], sources: &[redline::source::SourceFile], verb: &str) {
    if sources.is_empty() {
        eprintln!(
            "redline: warning: no YAML or JSON files to {verb} under {} (hidden, .gitignore'd \
             and --exclude'd paths are skipped; --no-ignore reads ignored ones)",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// How `lint` reports.
struct Output {
    format: redline::report::Format,
    file: Option<PathBuf>,
    color: ColorWhen,
    fail_on: FailOn,
}

fn lint(
    paths: &[PathBuf],
    walk: &redline::input::Walk,
    opts: &redline::extract::Options,
    config: &redline::config::UserConfig,
    out: &Output,
) -> ExitCode {
    use redline::report::{self, Report};
    use redline::rules::Severity;
    use std::io::IsTerminal;

    let sources = match read_sources(paths, walk) {
        Ok(s) => s,
        Err(code) => return code,
    };
    warn_if_empty(paths, &sources, "lint");
    // The report must never replace what it reports on.
    if let Some(file) = &out.file
        && let Ok(output) = same_file::Handle::from_path(file)
        && let Some(input) = sources.iter().find(|s| {
            s.name != redline::input::STDIN
                && same_file::Handle::from_path(&s.name).is_ok_and(|h| h == output)
        })
    {
        eprintln!(
            "redline: --output {} is the input {}; the report would replace it (nothing written)",
            file.display(),
            input.name
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let linted = redline::lint::lint(sources, opts, &config.settings);
    let report = Report::new(&linted);
    let fail_on = match out.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    let color = match out.color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => report::auto_color(
            out.file.is_none() && std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ),
    };
    let text = report::render(&report, out.format, report::Style { color, fail_on });
    match &out.file {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("redline: cannot write {}: {e}", path.display());
                return ExitCode::from(EXIT_USAGE);
            }
        }
        None => {
            if let Err(code) = emit(text.as_bytes()) {
                return code;
            }
        }
    }
    if report.fails(fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn fix(
    paths: &[PathBuf],
    walk: &redline::input::Walk,
    opts: &redline::extract::Options,
    config: &redline::config::UserConfig,
    rules: &[String],
    mode: redline::fix::report::Mode,
) -> ExitCode {
    use redline::fix::report::Mode;
    if let Some(bad) = rules.iter().find(|r| redline::rules::get(r).is_none()) {
        return unknown_rule(bad);
    }
    let sources = match read_sources(paths, walk) {
        Ok(s) => s,
        Err(code) => return code,
    };
    warn_if_empty(paths, &sources, "fix");
    let run = redline::fix::fix(
        sources,
        opts,
        &config.settings,
        &redline::fix::FixOptions::new(rules),
        &redline::source::Limits::default(),
    );
    let unwritten = if mode == Mode::Write {
        redline::fix::write::write_files(&run)
    } else {
        Vec::new()
    };
    let printed = redline::fix::report::render(&run, mode, &unwritten);
    eprint!("{}", printed.stderr);
    if let Err(code) = emit(printed.stdout.as_bytes()) {
        return code;
    }
    if let Err(code) = emit(&printed.stdout_raw) {
        return code;
    }
    // A filter passes through what it does not fix: standard input over the size limit was
    // read only to the limit; the rest goes out as it comes in (nothing held in memory). At
    // the end of standard input, this copies nothing.
    if mode == Mode::Write && paths.iter().any(|p| p.as_os_str() == "-") {
        let copied = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::stdout().lock());
        if let Err(e) = copied
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            eprintln!("redline fix: standard input: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    }
    ExitCode::from(redline::fix::report::exit_code(&run, mode, &unwritten))
}

fn list_rules(format: RulesFormat) -> ExitCode {
    let mut out = String::new();
    let rules = redline::rules::all();
    match format {
        RulesFormat::Text => {
            let width = rules.iter().map(|r| r.id().len()).max().unwrap_or(0);
            for r in rules {
                let _ = writeln!(
                    out,
                    "{:width$}  {:7}  {}{}",
                    r.id(),
                    r.meta.severity.to_string(),
                    r.meta.summary,
                    if r.meta.mutate { " [mutates]" } else { "" }
                );
            }
        }
        RulesFormat::Json => {
            let list: Vec<_> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id(),
                        "severity": r.meta.severity,
                        "summary": r.meta.summary,
                        "mutate": r.meta.mutate,
                        "parameters": r.meta.parameters,
                        "sources": r.meta.sources,
                    })
                })
                .collect();
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"version": 1, "rules": list}))
                    .unwrap_or_default()
            );
        }
    }
    emit(out.as_bytes()).err().unwrap_or(ExitCode::SUCCESS)
}

/// A rule ID that is not in the registry: the closest one as a hint; exit 2.
fn unknown_rule(id: &str) -> ExitCode {
    let hint = redline::rules::closest(id)
        .map(|c| format!(" Did you mean `{c}`?"))
        .unwrap_or_default();
    eprintln!("redline: no rule `{id}`.{hint} `redline rules` lists them.");
    ExitCode::from(EXIT_USAGE)
}

fn explain(id: &str) -> ExitCode {
    let Some(rule) = redline::rules::get(id) else {
        return unknown_rule(id);
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}
",
        rule.doc
    );
    let _ = writeln!(out, "Default severity: {}", rule.meta.severity);
    let _ = writeln!(
        out,
        "Mutating webhook applies the fix by default: {}",
        if rule.meta.mutate { "yes" } else { "no" }
    );
    if !rule.meta.parameters.is_empty() {
        let _ = writeln!(out, "Parameters:");
        for (name, p) in &rule.meta.parameters {
            let _ = writeln!(out, "  {name} (default {}): {}", p.default, p.description);
        }
    }
    let _ = writeln!(out, "Sources:");
    for s in &rule.meta.sources {
        let _ = writeln!(out, "  {s}");
    }
    emit(out.as_bytes()).err().unwrap_or(ExitCode::SUCCESS)
}

/// Load every input as one, build the model and print it.
fn dump_model_of(
    paths: &[PathBuf],
    walk: &redline::input::Walk,
    opts: &redline::extract::Options,
) -> ExitCode {
    let mut sources = match read_sources(paths, walk) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let diagnostics: Vec<_> = sources
        .iter()
        .flat_map(|s| s.diagnostics.iter().map(|d| (s.name.clone(), d.clone())))
        .collect();
    let (objects, skipped) = redline::extract::objects_of(&mut sources);
    let inventory = redline::extract::extract(objects, opts);
    let text = redline::dump::dump(&inventory, &diagnostics, &skipped);
    if let Err(code) = emit(text.as_bytes()) {
        return code;
    }
    // As `lint`: a document that does not load is a failure, whatever else was read.
    if diagnostics.iter().any(|(_, d)| d.error) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn parse_release(text: &str) -> Result<&'static redline::redisconf::Release, String> {
    use redline::redisconf::Release;
    Release::parse(text).ok_or_else(|| {
        let known: Vec<String> = Release::all()
            .iter()
            .map(|r| format!("{}-{}.{}", r.engine, r.major, r.minor).to_lowercase())
            .collect();
        format!(
            "no directive table for `{text}`; known: {}",
            known.join(", ")
        )
    })
}

fn check_conf(
    file: &std::path::Path,
    release: &'static redline::redisconf::Release,
    args: &[String],
) -> ExitCode {
    use redline::redisconf::{ConfigFiles, Dialect, ReadOptions, RedisConfig};
    use redline::units::human;

    // Capped before reading: `check-conf /dev/zero` must not read until memory runs out.
    let max_bytes = redline::source::Limits::default().max_bytes;
    let read = |path: &std::path::Path| -> Result<String, String> {
        let bytes = redline::input::read_capped(path, max_bytes).map_err(|e| e.to_string())?;
        if bytes.len() > max_bytes {
            return Err(format!("larger than the limit of {max_bytes} bytes"));
        }
        String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
    };
    let content = match read(file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("redline: cannot read {}: {e}", file.display());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // `include` lines may name files next to it: offer the reader every readable regular
    // file of that directory. One that cannot be read is simply not offered, and an include
    // of it is then reported as redis-server would report it ("can't open config file").
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let mut files = ConfigFiles::new();
    if let Some(dir) = absolute.parent()
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for path in entries.flatten().map(|e| e.path()).filter(|p| p.is_file()) {
            if let Ok(text) = read(&path) {
                files.insert(path.to_string_lossy(), text);
            }
        }
    }
    files.insert(absolute.to_string_lossy(), content);
    let mut argv = vec![absolute.to_string_lossy().into_owned()];
    argv.extend(args.iter().cloned());
    let options = ReadOptions {
        cwd: absolute
            .parent()
            .map_or("/".into(), |p| p.to_string_lossy().into_owned()),
        sentinel_mode: false,
        dialect: Dialect::Release(release),
    };
    let cfg = RedisConfig::from_argv(&argv, &files, &options);
    let mut out = String::new();

    let maxmemory = cfg.maxmemory_bytes();
    let origin = cfg
        .line_of("maxmemory")
        .map_or("default".to_string(), |l| l.location().to_string());
    let _ = writeln!(
        out,
        "maxmemory          {maxmemory} ({}) from {origin}",
        if maxmemory == 0 {
            "no limit".to_string()
        } else {
            human::size(maxmemory)
        }
    );
    let _ = writeln!(out, "maxmemory-policy   {}", cfg.maxmemory_policy());
    let save = cfg.config_get("save").unwrap_or_default();
    let _ = writeln!(
        out,
        "save               {}{}",
        if save.is_empty() {
            "(none: RDB snapshots off)"
        } else {
            &save
        },
        if cfg.save_is_default() {
            " (implicit default)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "appendonly         {}",
        if cfg.appendonly() { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "cluster-enabled    {}",
        if cfg.cluster_enabled() { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "client-output-buffer-limit {}",
        cfg.config_get("client-output-buffer-limit")
            .unwrap_or_default()
    );
    if cfg.starts() {
        let _ = writeln!(
            out,
            "{} would start with this configuration.",
            server_name(release)
        );
        emit(out.as_bytes()).err().unwrap_or(ExitCode::SUCCESS)
    } else {
        for e in cfg.errors() {
            let _ = writeln!(out, "error: {e}");
        }
        let _ = writeln!(
            out,
            "{} would refuse to start ({} error(s)).",
            server_name(release),
            cfg.errors().len()
        );
        emit(out.as_bytes()).err().unwrap_or(ExitCode::from(1))
    }
}

/// `redis-server 7.0.15`, `valkey-server 8.0.1`.
fn server_name(release: &redline::redisconf::Release) -> String {
    format!(
        "{}-server {}",
        release.engine.to_string().to_lowercase(),
        release.version
    )
}

/// Write to standard output. A closed pipe (`redline lint … | head`) ends the output quietly;
/// any other write error is an I/O error (exit 2).
fn emit(text: &[u8]) -> Result<(), ExitCode> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            eprintln!("redline: cannot write to standard output: {e}");
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}
