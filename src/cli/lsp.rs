//! `redline lsp`: the language server on standard input and output.

use super::*;

pub(super) fn lsp() -> ExitCode {
    let (connection, io_threads) = lsp_server::Connection::stdio();
    let served = crate::lsp::run(&connection);
    // The writer thread ends when the last sender goes: drop ours before joining.
    drop(connection);
    let joined = io_threads.join();
    match (served, joined) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Err(e), _) => {
            eprintln!("redline lsp: {e}");
            ExitCode::from(1)
        }
        (_, Err(e)) => {
            eprintln!("redline lsp: {e}");
            ExitCode::from(1)
        }
    }
}
