//! The text redis-server parses: files and command-line options concatenated and split into
//! lines, each with its origin (file and line, or argument) for [`Location`]s.

use super::*;

/// Where each line of the text being parsed came from.
#[derive(Debug, Clone)]
pub(super) enum LineOrigin {
    File {
        path: String,
        line: u32,
    },
    /// A line built from command-line arguments: (byte offset in the built line, argument
    /// index, offset inside the argument) for each piece.
    Args {
        pieces: ArgPieces,
    },
    /// The empty line between the file and the options.
    Separator,
}

/// A piece of text to parse, line by line, with the origin of every line.
pub(super) struct Text {
    pub(super) lines: Vec<(String, LineOrigin)>,
}

impl Text {
    pub(super) fn location(&self, line_index: usize, byte_offset: usize) -> Location {
        let (text, origin) = &self.lines[line_index];
        match origin {
            LineOrigin::File { path, line } => Location::File {
                path: path.clone(),
                line: *line,
                column: text
                    .get(..byte_offset)
                    .map_or(byte_offset, |s| s.chars().count()) as u32
                    + 1,
            },
            LineOrigin::Args { pieces } => {
                let (start, index, inner) = pieces
                    .iter()
                    .rev()
                    .find(|(start, _, _)| *start <= byte_offset)
                    .copied()
                    .unwrap_or((0, 0, 0));
                Location::Arg {
                    index,
                    column: (inner + byte_offset - start) as u32 + 1,
                }
            }
            // Always an empty line, so nothing on it is ever located; point at the options.
            LineOrigin::Separator => Location::Arg {
                index: 0,
                column: byte_offset as u32 + 1,
            },
        }
    }
}

/// A piece of the text redis-server parses: a file's content, or the command-line options.
pub(super) enum Segment {
    File(String),
    /// The `\n` redis-server puts between the file and the options.
    Separator,
    /// The option lines; for each, its pieces (see [`LineOrigin::Args`]).
    Args(Vec<ArgPieces>),
}

/// Concatenates the segments and splits the result on `\n` as `sdssplitlen` does (an empty
/// text has no lines; `a\n` has two), remembering where each line starts. Files are
/// concatenated before splitting, so a file without a final newline runs into the next one.
pub(super) fn build_text(parts: Vec<(String, Segment)>) -> Text {
    let parts: Vec<(String, Segment)> = parts.into_iter().filter(|(c, _)| !c.is_empty()).collect();
    let mut full = String::new();
    let mut starts = Vec::with_capacity(parts.len());
    for (content, _) in &parts {
        starts.push(full.len());
        full.push_str(content);
    }
    let mut lines = Vec::new();
    if full.is_empty() {
        return Text { lines };
    }
    // Newlines seen so far in each segment: the line number of a line starting there.
    let mut newlines = vec![0u32; parts.len()];
    let segment_of = |pos: usize| starts.partition_point(|s| *s <= pos).saturating_sub(1);
    let mut offset = 0;
    for piece in full.split('\n') {
        let k = segment_of(offset.min(full.len().saturating_sub(1)));
        let origin = match &parts[k].1 {
            Segment::File(path) => LineOrigin::File {
                path: path.clone(),
                line: newlines[k] + 1,
            },
            Segment::Separator => LineOrigin::Separator,
            Segment::Args(arg_lines) => LineOrigin::Args {
                pieces: arg_lines
                    .get(newlines[k] as usize)
                    .cloned()
                    .unwrap_or_default(),
            },
        };
        lines.push((piece.to_string(), origin));
        offset += piece.len();
        if offset < full.len() {
            newlines[segment_of(offset)] += 1;
        }
        offset += 1;
    }
    Text { lines }
}

pub(super) fn file_segments(files: &ConfigFiles, paths: &[String]) -> Vec<(String, Segment)> {
    paths
        .iter()
        .map(|p| {
            (
                files.get(p).unwrap_or_default().to_string(),
                Segment::File(p.clone()),
            )
        })
        .collect()
}

/// The command line redis-server builds from `--name value…` (server.c `main`): one line per
/// option, values quoted with `sdscatrepr`.
pub(super) struct CommandLine {
    pub(super) config_file: Option<(usize, String)>,
    /// Each option line and its pieces: (byte offset in the line, argument index, offset in
    /// that argument).
    pub(super) lines: Vec<(String, ArgPieces)>,
}

pub(super) type ArgPieces = Vec<(usize, usize, usize)>;

pub(super) fn build_command_line(argv: &[String]) -> CommandLine {
    let mut j = 0;
    let mut config_file = None;
    if let Some(first) = argv.first().filter(|f| !f.starts_with('-')) {
        config_file = Some((0, first.clone()));
        j = 1;
    }
    let mut options: Vec<(String, ArgPieces)> = Vec::new();
    let mut handled_last_config_arg = true;
    let argc = argv.len();
    while j < argc {
        let arg = &argv[j];
        let next_is_option = j + 1 < argc && argv[j + 1].starts_with("--");
        if arg == "-" && (j == 0 || j == argc - 1) {
            // Configuration from stdin: unknown offline.
        } else if handled_last_config_arg && arg.starts_with("--") {
            let mut line = arg[2..].to_string();
            line.push(' ');
            let pieces = vec![(0, j, 2)];
            let name_only = split_args(arg).map(|t| t.len() == 1).unwrap_or(false);
            if name_only {
                handled_last_config_arg = false;
                if arg.eq_ignore_ascii_case("--save") && (next_is_option || j == argc - 1) {
                    // `--save` with no value means `save ""` (compatibility with Redis < 7.0).
                    line.push_str("\"\"");
                    handled_last_config_arg = next_is_option;
                } else if arg.eq_ignore_ascii_case("--sentinel") && next_is_option {
                    handled_last_config_arg = true;
                }
            } else {
                handled_last_config_arg = true;
            }
            options.push((line, pieces));
        } else {
            // A value before any option name starts a line of its own (redis-server appends it
            // to the empty option list).
            if options.is_empty() {
                options.push((String::new(), Vec::new()));
            }
            if let Some((line, pieces)) = options.last_mut() {
                pieces.push((line.len(), j, 0));
                line.push_str(&repr(arg));
                line.push(' ');
            }
            handled_last_config_arg = true;
        }
        j += 1;
    }
    CommandLine {
        config_file,
        lines: options,
    }
}
