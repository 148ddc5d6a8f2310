//! A one-line progress bar on standard error, drawn only when standard error is a terminal
//! (a CI log or a redirect gets nothing): `audit`'s pages, and `lint`/`fix` over more than
//! [`MANY_FILES`] files.

use std::io::{IsTerminal, Write as _};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Below this many files a run is over before a bar is worth drawing.
pub(super) const MANY_FILES: usize = 200;

/// How often the bar may be redrawn (a terminal write per file of a 10,000-file tree would
/// cost more than reading it).
const EVERY: Duration = Duration::from_millis(50);

const WIDTH: usize = 24;

pub(super) struct Bar {
    on: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    drawn: bool,
    last: Option<Instant>,
}

impl Bar {
    /// A bar that draws only on a terminal.
    pub(super) fn on_terminal() -> Bar {
        Bar::new(std::io::stderr().is_terminal())
    }

    /// A bar for `files` inputs: on a terminal, and only for a long run.
    pub(super) fn for_files(files: usize) -> Bar {
        Bar::new(files > MANY_FILES && std::io::stderr().is_terminal())
    }

    fn new(on: bool) -> Bar {
        Bar {
            on,
            state: Mutex::new(State::default()),
        }
    }

    /// `verb [####    ] done/total unit tail`; throttled unless `force` (a step's last
    /// count, which must be seen).
    pub(super) fn draw(&self, verb: &str, done: usize, total: usize, tail: &str, force: bool) {
        if !self.on {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let now = Instant::now();
        if !force && state.last.is_some_and(|t| now.duration_since(t) < EVERY) {
            return;
        }
        state.last = Some(now);
        let filled = (done.min(total) * WIDTH)
            .checked_div(total)
            .unwrap_or(WIDTH);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{verb} [{}{}] {done}/{total} {tail}",
            "#".repeat(filled),
            " ".repeat(WIDTH - filled),
        );
        let _ = err.flush();
        state.drawn = true;
    }

    /// Removes the bar, so that what follows starts on a clean line.
    pub(super) fn clear(&self) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if state.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            state.drawn = false;
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.clear();
    }
}
