//! The `redline` command line: the clap schema, one module per command, exit codes. The
//! binary (`src/main.rs`) only installs the allocator and calls [`run`]; the work is in the
//! library's engine and faces, and the text commands print is built by functions here that
//! the unit tests call.

#[cfg(feature = "live")]
mod audit;
mod check_conf;
mod fix;
mod lint;
mod lsp;
mod progress;
mod rules;
mod serve;
mod shell;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Keeps Redis on Kubernetes from falling over: finds the settings that get Redis pods
/// OOM-killed or crash-looping, before they reach a cluster.
#[derive(Parser)]
#[command(name = "redline", version = env!("REDLINE_VERSION"), about, long_about = None)]
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
        format: crate::report::Format,
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
    /// Judge what a cluster runs: every kind the webhook admits, with the objects they refer
    /// to, read through kubeconfig or the in-cluster service account and judged together
    /// as `lint` judges a directory; optionally published as PolicyReports.
    ///
    /// Exit status: 0 nothing at or above --fail-on; 1 a finding at or above it, or a kind
    /// that could not be listed (forbidden, failed); 2 usage, configuration, connection or
    /// report-writing error.
    #[cfg(feature = "live")]
    Audit(audit::AuditArgs),
    /// Run the HTTPS admission webhook: `POST /validate`, `POST /mutate`, `GET /healthz`,
    /// `/readyz`, `/metrics`. With no certificate given, a CA and a certificate for
    /// localhost are generated and the CA file's path is logged.
    Serve(serve::ServeArgs),
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
    /// Run the language server (LSP over standard input and output) for editors: findings as
    /// diagnostics while you type, `fix`'s edits as code actions, `explain` on hover.
    Lsp {
        /// Accepted for editors that pass it (VS Code's language client does); standard
        /// input and output is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Print a shell completion script: `source <(redline completions bash)`.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per command into a directory.
    Man {
        /// Write `redline.1`, `redline-lint.1`, … into this directory instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
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
        #[arg(long, default_value = "redis-7.0", value_parser = check_conf::parse_release)]
        release: &'static crate::redisconf::Release,
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
    kubeblocks_maxmemory: Option<crate::extract::KubeBlocksMaxmemory>,
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

impl From<WalkArgs> for crate::input::Walk {
    fn from(w: WalkArgs) -> Self {
        crate::input::Walk {
            exclude: w.exclude,
            no_ignore: w.no_ignore,
        }
    }
}

/// The command line's `--kubeblocks-maxmemory` over the configuration file's.
fn extract_options(
    model: &ModelArgs,
    config: &crate::settings::UserConfig,
) -> crate::extract::Options {
    config.extract_options(model.kubeblocks_maxmemory)
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
pub enum RulesFormat {
    Text,
    Json,
}

/// Exit code for usage, configuration and I/O errors.
const EXIT_USAGE: u8 = 2;

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
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
                lint::dump_model_of(&paths, &walk, &opts)
            } else {
                let out = Output {
                    format,
                    file: output,
                    color,
                    fail_on,
                };
                lint::lint(&paths, &walk, &opts, &config, &out)
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
                (true, _) => crate::fix::report::Mode::Diff,
                (_, true) => crate::fix::report::Mode::Check,
                _ => crate::fix::report::Mode::Write,
            };
            let config = match load_config(&config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let opts = extract_options(&model, &config);
            fix::fix(&paths, &walk.into(), &opts, &config, &rules, mode)
        }
        #[cfg(feature = "live")]
        Command::Audit(args) => audit::audit(args),
        Command::Serve(args) => serve::serve(args),
        Command::Lsp { stdio: _ } => lsp::lsp(),
        Command::Completions { shell } => shell::completions(shell, &mut Cli::command()),
        Command::Man { dir } => shell::man(Cli::command(), dir.as_deref()),
        Command::Rules { format } => rules::list_rules(format),
        Command::Explain { rule } => rules::explain(&rule),
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
        } => serve::certs_generate(&crate::webhook::certs::Request {
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
        } => check_conf::check_conf(&file, release, &args),
    }
}

/// The configuration file named, or discovered from the working directory, or the defaults.
fn load_config(args: &ConfigArgs) -> Result<crate::settings::UserConfig, ExitCode> {
    let path = args.config.clone().or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| crate::settings::discover(&d))
    });
    let mut config = match path {
        Some(p) => crate::settings::read(&p).map_err(|e| {
            eprintln!("redline: configuration error: {e}");
            ExitCode::from(EXIT_USAGE)
        })?,
        None => crate::settings::UserConfig::default(),
    };
    if args.no_annotation_exemptions {
        config.settings.annotation_exemptions = false;
    }
    Ok(config)
}

/// Read every input; an unreadable one is a usage/I-O error (exit 2), all of them reported.
/// The bar returned (drawn on a terminal for a long run only) is the caller's to move on
/// while it judges; dropping it clears the line.
fn read_sources(
    paths: &[PathBuf],
    walk: &crate::input::Walk,
) -> Result<(Vec<crate::source::SourceFile>, progress::Bar), ExitCode> {
    let files = crate::input::expand_paths(paths, walk).map_err(|e| {
        eprintln!("redline: {e}");
        ExitCode::from(EXIT_USAGE)
    })?;
    let total = files.len();
    let bar = progress::Bar::for_files(total);
    let limits = crate::source::Limits::default();
    let read = crate::input::read_all_with(&files, &limits, &|done| {
        bar.draw("reading", done, total, "files", done == total)
    });
    match read {
        Ok(sources) => Ok((sources, bar)),
        Err(errors) => {
            bar.clear();
            for e in errors {
                eprintln!("redline: {e}");
            }
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}

/// Nothing to read is not an error (a directory may legitimately hold no manifests yet), but
/// never silent: an --exclude or .gitignore that leaves out everything looks like success.
fn warn_if_empty(paths: &[PathBuf], sources: &[crate::source::SourceFile], verb: &str) {
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
    format: crate::report::Format,
    file: Option<PathBuf>,
    color: ColorWhen,
    fail_on: FailOn,
}

impl FailOn {
    fn threshold(self) -> Option<crate::rules::Severity> {
        use crate::rules::Severity;
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

impl Output {
    /// Whether the human format is coloured.
    fn color(&self) -> bool {
        use std::io::IsTerminal;
        match self.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => crate::report::auto_color(
                self.file.is_none() && std::io::stdout().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            ),
        }
    }

    /// The report to `--output`'s file, else standard output.
    fn deliver(&self, text: &str) -> Result<(), ExitCode> {
        match &self.file {
            Some(path) => std::fs::write(path, text).map_err(|e| {
                eprintln!("redline: cannot write {}: {e}", path.display());
                ExitCode::from(EXIT_USAGE)
            }),
            None => emit(text.as_bytes()),
        }
    }
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

/// A rule ID that is not in the registry: the closest one as a hint; exit 2.
fn unknown_rule(id: &str) -> ExitCode {
    let hint = crate::rules::closest(id)
        .map(|c| format!(" Did you mean `{c}`?"))
        .unwrap_or_default();
    eprintln!("redline: no rule `{id}`.{hint} `redline rules` lists them.");
    ExitCode::from(EXIT_USAGE)
}
