//! `redline lint` (and `--dump-model`).

use super::*;

pub(super) fn lint(
    paths: &[PathBuf],
    walk: &crate::input::Walk,
    opts: &crate::extract::Options,
    config: &crate::settings::UserConfig,
    out: &Output,
) -> ExitCode {
    use crate::report::{self, Report};

    let (sources, bar) = match read_sources(paths, walk) {
        Ok(s) => s,
        Err(code) => return code,
    };
    warn_if_empty(paths, &sources, "lint");
    let files = sources.len();
    bar.draw("linting", files, files, "files", true);
    // The report must never replace what it reports on.
    if let Some(file) = &out.file
        && let Ok(output) = same_file::Handle::from_path(file)
        && let Some(input) = sources.iter().find(|s| {
            s.name != crate::input::STDIN
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
    let linted = crate::lint::lint(sources, opts, &config.settings);
    let report = Report::new(&linted);
    drop(bar);
    let fail_on = out.fail_on.threshold();
    let text = report::render(
        &report,
        out.format,
        report::Style {
            color: out.color(),
            fail_on,
        },
    );
    if let Err(code) = out.deliver(&text) {
        return code;
    }
    if report.fails(fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Load every input as one, build the model and print it.
pub(super) fn dump_model_of(
    paths: &[PathBuf],
    walk: &crate::input::Walk,
    opts: &crate::extract::Options,
) -> ExitCode {
    let (mut sources, bar) = match read_sources(paths, walk) {
        Ok(s) => s,
        Err(code) => return code,
    };
    drop(bar);
    let diagnostics: Vec<_> = sources
        .iter()
        .flat_map(|s| s.diagnostics.iter().map(|d| (s.name.clone(), d.clone())))
        .collect();
    let (objects, skipped) = crate::extract::objects_of(&mut sources);
    let inventory = crate::extract::extract(objects, opts);
    let text = crate::dump::dump(&inventory, &diagnostics, &skipped);
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
