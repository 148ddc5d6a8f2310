//! `redline completions SHELL` and `redline man`: generated from the clap schema, so they
//! list exactly the commands and flags the binary has.

use super::*;

pub(super) fn completions(shell: clap_complete::Shell, command: &mut clap::Command) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, command, "redline", &mut script);
    match emit(&script) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// The page of `command` and, with a directory, one page per subcommand (`redline-lint.1`),
/// as `git help` has them.
pub(super) fn man(command: clap::Command, dir: Option<&std::path::Path>) -> ExitCode {
    let command = command.version(env!("REDLINE_VERSION"));
    let Some(dir) = dir else {
        let mut page = Vec::new();
        if let Err(e) = clap_mangen::Man::new(command).render(&mut page) {
            eprintln!("redline man: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
        return match emit(&page) {
            Ok(()) => ExitCode::SUCCESS,
            Err(code) => code,
        };
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("redline man: {}: {e}", dir.display());
        return ExitCode::from(EXIT_USAGE);
    }
    // clap_mangen names a subcommand's page after its `bin_name` (`redline-lint`), which
    // clap sets only once the tree is built.
    let mut command = command;
    command.build();
    let mut pages = vec![command.clone()];
    pages.extend(
        command
            .get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| {
                c.clone()
                    .name(format!("redline-{}", c.get_name()))
                    .version(env!("REDLINE_VERSION"))
            }),
    );
    for page in pages {
        let path = dir.join(format!("{}.1", page.get_name()));
        let mut text = Vec::new();
        let written = clap_mangen::Man::new(page)
            .render(&mut text)
            .and_then(|()| std::fs::write(&path, &text));
        if let Err(e) = written {
            eprintln!("redline man: {}: {e}", path.display());
            return ExitCode::from(EXIT_USAGE);
        }
        println!("{}", path.display());
    }
    ExitCode::SUCCESS
}
