//! `redline fix`.

use super::*;

pub(super) fn fix(
    paths: &[PathBuf],
    walk: &crate::input::Walk,
    opts: &crate::extract::Options,
    config: &crate::settings::UserConfig,
    rules: &[String],
    mode: crate::fix::report::Mode,
) -> ExitCode {
    use crate::fix::report::Mode;
    if let Some(bad) = rules.iter().find(|r| crate::rules::get(r).is_none()) {
        return unknown_rule(bad);
    }
    let (sources, bar) = match read_sources(paths, walk) {
        Ok(s) => s,
        Err(code) => return code,
    };
    warn_if_empty(paths, &sources, "fix");
    let files = sources.len();
    bar.draw("fixing", files, files, "files", true);
    let run = crate::fix::fix(
        sources,
        opts,
        &config.settings,
        &crate::fix::FixOptions::new(rules),
        &crate::source::Limits::default(),
    );
    drop(bar);
    let unwritten = if mode == Mode::Write {
        crate::fix::write::write_files(&run)
    } else {
        Vec::new()
    };
    let printed = crate::fix::report::render(&run, mode, &unwritten);
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
    ExitCode::from(crate::fix::report::exit_code(&run, mode, &unwritten))
}
