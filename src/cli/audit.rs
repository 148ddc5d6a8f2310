//! `redline audit`: the live cluster's objects judged as `lint` judges a directory.

use super::*;

#[derive(clap::Args)]
pub(super) struct AuditArgs {
    /// The kubeconfig file [default: `KUBECONFIG`, else `~/.kube/config`, else the
    /// in-cluster service account].
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context [default: its current context].
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Audit this namespace (repeatable) [default: the context's namespace].
    #[arg(
        long,
        short = 'n',
        value_name = "NAMESPACE",
        conflicts_with = "all_namespaces"
    )]
    namespace: Vec<String>,
    /// Audit every namespace.
    #[arg(long, short = 'A')]
    all_namespaces: bool,
    /// Judge only objects with these labels (`app=redis,tier!=cache`); the ConfigMaps,
    /// PodDisruptionBudgets, Services and PersistentVolumeClaims they refer to are read
    /// whatever their labels.
    #[arg(long, short = 'l', value_name = "SELECTOR")]
    selector: Option<String>,
    /// Objects per list request (`limit`; the rest is read with `continue`).
    #[arg(long, default_value_t = crate::audit::list::PAGE_SIZE, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    chunk_size: u32,
    /// Create or update the `wgpolicyk8s.io/v1alpha2` PolicyReports (one per namespace,
    /// named `redline`) in the cluster, by server-side apply. Not with --selector: a
    /// namespace's report holds all of its findings. Not written when a kind could not be
    /// read: a partial report would replace a complete one.
    #[arg(long, conflicts_with = "selector")]
    write_reports: bool,
    /// Exit with 1 when a finding is at or above this severity (`never`: only a kind that
    /// could not be listed fails the run).
    #[arg(long, default_value = "error", value_name = "SEVERITY")]
    fail_on: FailOn,
    /// Output format (`policyreport`: the PolicyReports as YAML, for `kubectl apply -f -`).
    #[arg(long, default_value = "human", value_name = "FORMAT")]
    format: AuditFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Colour in the human format: `auto` colours a terminal unless `NO_COLOR` is set.
    #[arg(long, default_value = "auto", value_name = "WHEN")]
    color: ColorWhen,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    config: ConfigArgs,
}

/// `lint`'s formats and the Policy Reports.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum AuditFormat {
    Human,
    Json,
    Sarif,
    Junit,
    Github,
    Markdown,
    Html,
    Policyreport,
}

impl AuditFormat {
    fn of_lint(self) -> Option<crate::report::Format> {
        use crate::report::Format;
        Some(match self {
            AuditFormat::Human => Format::Human,
            AuditFormat::Json => Format::Json,
            AuditFormat::Sarif => Format::Sarif,
            AuditFormat::Junit => Format::Junit,
            AuditFormat::Github => Format::Github,
            AuditFormat::Markdown => Format::Markdown,
            AuditFormat::Html => Format::Html,
            AuditFormat::Policyreport => return None,
        })
    }
}

pub(super) fn audit(args: AuditArgs) -> ExitCode {
    use crate::audit::list::{self, Scope};
    use crate::report::{self, Report, policyreport};

    let config = match load_config(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let opts = extract_options(&args.model, &config);
    // One crypto provider for the process (kube's client is built with rustls and ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("redline audit: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let bar = super::progress::Bar::on_terminal();
    let listing = runtime.block_on(async {
        let (client, context_namespace) =
            list::connect(args.kubeconfig.as_deref(), args.context.as_deref()).await?;
        let scope = Scope {
            namespaces: match (args.all_namespaces, args.namespace.is_empty()) {
                (true, _) => None,
                (false, true) => Some(vec![context_namespace]),
                (false, false) => Some(args.namespace.clone()),
            },
            selector: args.selector.clone(),
            page_size: args.chunk_size,
        };
        // Every page is drawn (not throttled): a page is a network round trip.
        let listed = list::collect(&client, &scope, &mut |p| {
            let tail = format!("kinds, {} objects read {}", p.objects_read, p.resource);
            bar.draw("auditing", p.kinds_done, p.kinds_total, &tail, true)
        })
        .await?;
        Ok::<_, String>((client, scope, listed))
    });
    bar.clear();
    let (client, scope, listed) = match listing {
        Ok(l) => l,
        Err(e) => {
            eprintln!("redline audit: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    for p in &listed.problems {
        eprintln!("redline audit: {p}");
    }
    let incomplete = listed.incomplete();
    let namespaces = listed.namespaces;
    let linted = crate::audit::judge(listed.objects, &opts, &config.settings);
    let report = Report::new(&linted);
    let now_unix = crate::webhook::tls::now_unix();
    let reports = (args.write_reports || args.format == AuditFormat::Policyreport)
        .then(|| policyreport::reports(&report, &namespaces, now_unix));
    if args.write_reports && incomplete {
        eprintln!(
            "redline audit: policy reports not written: the audit is incomplete (see above), \
             and its reports would replace complete ones"
        );
    } else if args.write_reports {
        let reports = reports.as_deref().unwrap_or_default();
        match runtime.block_on(list::write_reports(&client, reports, &scope)) {
            Ok(n) => eprintln!("redline audit: applied {n} policy report(s)"),
            Err(e) => {
                eprintln!("redline audit: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    let out = Output {
        format: args.format.of_lint().unwrap_or(report::Format::Human),
        file: args.output,
        color: args.color,
        fail_on: args.fail_on,
    };
    let fail_on = args.fail_on.threshold();
    let text = match (args.format.of_lint(), &reports) {
        (Some(format), _) => report::render(
            &report,
            format,
            report::Style {
                color: out.color(),
                fail_on,
            },
        ),
        (None, reports) => policyreport::render(reports.as_deref().unwrap_or_default()),
    };
    if let Err(code) = out.deliver(&text) {
        return code;
    }
    if incomplete || report.fails(fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
