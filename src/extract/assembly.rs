//! Assemble one effective redis configuration from pieces of different origin — ConfigMap
//! files, command-line arguments, lines an operator writes, parameters of KubeBlocks
//! objects — by handing them to the foundation's reader exactly as redis-server would see
//! them, then mapping every line and error it reports back to its origin and file position.

use std::collections::HashMap;

use crate::model::{Config, LineSource, Loc, Origin};
use crate::redisconf::{
    ConfigFiles, Dialect, Location, ReadOptions, RedisConfig, StartupError,
    normalize_path as normalize,
};
use crate::source::Scalar;

/// A line written by someone other than a file: an operator default, a parameter, a custom
/// config entry.
#[derive(Debug, Clone)]
pub struct SynthLine {
    pub text: String,
    pub origin: Origin,
    pub at: Option<Loc>,
}

enum FileSource {
    /// A scalar of an object (a ConfigMap key): positions come from the scalar's runs.
    Scalar {
        scalar: Scalar,
        object: crate::model::ObjectId,
        pointer: String,
        line_starts: Vec<usize>,
    },
    /// A file we compose: one origin per line.
    Synthetic(Vec<SynthLine>),
}

#[derive(Default)]
pub struct Assembly {
    files: ConfigFiles,
    sources: HashMap<String, FileSource>,
    argv: Vec<String>,
    arg_locs: Vec<Option<Loc>>,
    gaps: Vec<String>,
    complete: bool,
    unknown: Vec<String>,
    /// Directories whose files all come from the input (ConfigMap mounts): a file missing
    /// there is really missing; elsewhere it may be written at run time.
    known_dirs: Vec<String>,
    sentinel: bool,
    open_acl_files: Vec<String>,
    /// Refusals found before the configuration is read (a Dragonfly flag absl rejects).
    errors: Vec<(StartupError, Option<Loc>)>,
}

/// Where the composed file of an operator lives; never a path in a real container.
pub const SYNTHETIC_DIR: &str = "/redline-synthetic";

impl Assembly {
    pub fn new() -> Self {
        Assembly {
            complete: true,
            ..Default::default()
        }
    }

    pub fn sentinel(&mut self, yes: bool) {
        self.sentinel = yes;
    }

    /// Provide a file at `path` whose content is a scalar of an object.
    pub fn file_from_scalar(&mut self, path: &str, scalar: &Scalar, at: &Loc) {
        let line_starts = std::iter::once(0)
            .chain(scalar.text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        self.files.insert(path, scalar.text.clone());
        self.sources.insert(
            normalize(path),
            FileSource::Scalar {
                scalar: scalar.clone(),
                object: at.object,
                pointer: at.pointer.clone(),
                line_starts,
            },
        );
    }

    /// Provide a composed file at `path`.
    pub fn synthetic_file(&mut self, path: &str, lines: Vec<SynthLine>) {
        let text = lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        self.files.insert(path, text);
        self.sources
            .insert(normalize(path), FileSource::Synthetic(lines));
    }

    pub fn has_file(&self, path: &str) -> bool {
        self.files.get(&normalize(path)).is_some()
    }

    /// The redis-server arguments after the program name, each with its place.
    pub fn push_arg(&mut self, arg: String, at: Option<Loc>) {
        self.argv.push(arg);
        self.arg_locs.push(at);
    }

    /// Drop the last option (`--name value…`) pushed, returning its name.
    pub fn pop_option(&mut self) -> String {
        while let Some(arg) = self.argv.pop() {
            self.arg_locs.pop();
            if let Some(name) = arg.strip_prefix("--") {
                return name.split_whitespace().next().unwrap_or("").to_lowercase();
            }
        }
        String::new()
    }

    /// A directive whose value is not known offline (an unresolved environment variable).
    pub fn unknown(&mut self, name: &str, why: String) {
        let name = name.to_lowercase();
        if !self.unknown.contains(&name) {
            self.unknown.push(name);
        }
        if !self.gaps.contains(&why) {
            self.gaps.push(why);
        }
    }

    /// A directive set from `${var}`, whose value is not known offline.
    pub fn unknown_from(&mut self, name: &str, var: &str) {
        self.unknown(
            name,
            format!("`{name}` is set from ${{{var}}}, whose value is not known offline"),
        );
    }

    /// A word that is all variable (`$ARGS`): the options it holds are not visible.
    pub fn unknown_words(&mut self, word: &str, var: &str) {
        self.gap(format!(
            "`{word}` expands ${{{var}}}, whose value is not known offline: the options it \
             holds are not visible"
        ));
    }

    /// Part of the configuration is not in the input.
    pub fn gap(&mut self, what: impl Into<String>) {
        self.complete = false;
        self.gaps.push(what.into());
    }

    /// Something the reader of the model should know.
    pub fn note(&mut self, what: impl Into<String>) {
        self.gaps.push(what.into());
    }

    /// The ACL file at `path` leaves the `default` user open; `why` is the note.
    pub fn open_acl_file(&mut self, path: &str, why: &str) {
        self.open_acl_files.push(path.to_string());
        self.gaps.push(why.to_string());
    }

    /// A start-up refusal the reader itself found (the server exits before it reads on).
    pub fn fail(&mut self, error: StartupError, at: Option<Loc>) {
        self.errors.push((error, at));
    }

    /// Every file under `dir` is in the input.
    pub fn known_dir(&mut self, dir: &str) {
        self.known_dirs.push(normalize(dir));
    }

    /// Read everything the way the server of `dialect` does.
    pub fn finish(mut self, dialect: Dialect) -> Config {
        let options = ReadOptions {
            sentinel_mode: self.sentinel,
            dialect,
            ..ReadOptions::default()
        };
        let redis = RedisConfig::from_argv(&self.argv, &self.files, &options);
        self.read_acl_file(&redis);
        let sources = redis
            .lines()
            .iter()
            .map(|line| {
                let mut source = self.resolve(line.location(), line.from_include);
                source.args = (0..line.args.len())
                    .map(|i| self.resolve(line.arg_location(i), line.from_include).at)
                    .collect();
                source
            })
            .collect();
        let mut errors = std::mem::take(&mut self.errors);
        let mut gaps = std::mem::take(&mut self.gaps);
        let mut complete = self.complete;
        for e in redis.errors() {
            if let Some(path) = e
                .message
                .strip_prefix("Fatal error, can't open config file '")
                .and_then(|m| m.split('\'').next())
                && !self
                    .known_dirs
                    .iter()
                    .any(|d| path.starts_with(&format!("{d}/")))
            {
                // Not from a ConfigMap we have: possibly written at run time.
                complete = false;
                gaps.push(format!(
                    "{path} is not in the input (written at run time?); its lines are unknown"
                ));
                continue;
            }
            let source = e.location.as_ref().map(|l| self.resolve(l, false));
            if !e.certain
                && let Some(LineSource {
                    origin: Origin::OperatorDefault { operator, .. },
                    ..
                }) = &source
            {
                // An operator's own line that no table of a known release accepts: its
                // authors target a release newer than the tables; not the user's to judge.
                gaps.push(format!(
                    "{operator} writes `{}`, which the newest table redline has rejects \
                     (the release is not known): not judged",
                    e.line_text
                ));
                continue;
            }
            errors.push((e.clone(), source.and_then(|s| s.at)));
        }
        Config {
            redis,
            sources,
            errors,
            complete,
            gaps,
            unknown: std::mem::take(&mut self.unknown),
            open_acl_files: std::mem::take(&mut self.open_acl_files),
        }
    }

    /// An ACL file the input holds is read for what the `default` user ends up as: open
    /// (`on nopass`) unless the file gives it a password or turns it off — and when the file
    /// defines no `default` user at all, redis-server creates it open (acl.c
    /// `ACLLoadFromFile` → `ACLCreateDefaultUser`: `on nopass ~* &* +@all`). A file the input
    /// does not hold is left as it was: an ACL file counts as authentication.
    fn read_acl_file(&mut self, redis: &RedisConfig) {
        let Some((crate::redisconf::Value::Str(Some(path)), _)) = redis.get("aclfile") else {
            return;
        };
        if self.open_acl_files.contains(path) {
            return;
        }
        let Some(text) = self.files.get(&normalize(path)) else {
            return;
        };
        let why = match default_user_in_acl_file(text) {
            None => "defines no `default` user, so redis-server creates it with no password",
            Some(true) => "leaves the `default` user on with no password (`nopass`)",
            Some(false) => return,
        };
        let note = format!("the ACL file {path} {why}");
        self.open_acl_file(path, &note);
    }

    fn resolve(&self, location: &Location, from_include: bool) -> LineSource {
        match location {
            Location::Arg { index, column } => LineSource {
                origin: Origin::Args,
                at: self.arg_locs.get(*index).cloned().flatten().map(|mut loc| {
                    // The argument's place is its first character; the column is inside it.
                    if let Some(p) = loc.pos.as_mut() {
                        p.column += column.saturating_sub(1);
                        p.offset += column.saturating_sub(1) as usize;
                    }
                    loc
                }),
                args: Vec::new(),
            },
            Location::File { path, line, column } => {
                let file_origin = if from_include {
                    Origin::Include { path: path.clone() }
                } else {
                    Origin::File { path: path.clone() }
                };
                // Paths from the reader are normalized already; normalize only on a miss.
                let source = self
                    .sources
                    .get(path.as_str())
                    .or_else(|| self.sources.get(&normalize(path)));
                match source {
                    Some(FileSource::Synthetic(lines)) => match lines.get(*line as usize - 1) {
                        Some(l) => LineSource {
                            origin: l.origin.clone(),
                            at: l.at.clone(),
                            args: Vec::new(),
                        },
                        None => LineSource {
                            origin: file_origin,
                            at: None,
                            args: Vec::new(),
                        },
                    },
                    Some(FileSource::Scalar {
                        scalar,
                        object,
                        pointer,
                        line_starts,
                    }) => {
                        let pos = line_starts.get(*line as usize - 1).and_then(|&start| {
                            let text = &scalar.text[start..];
                            let col = text
                                .char_indices()
                                .nth(column.saturating_sub(1) as usize)
                                .map_or(text.len(), |(i, _)| i);
                            scalar.pos_at(start + col)
                        });
                        LineSource {
                            origin: file_origin,
                            at: Some(Loc {
                                object: *object,
                                pointer: pointer.clone(),
                                pos,
                            }),
                            args: Vec::new(),
                        }
                    }
                    None => LineSource {
                        origin: file_origin,
                        at: None,
                        args: Vec::new(),
                    },
                }
            }
        }
    }
}

/// Whether an ACL file's `default` user is open (`Some(true)`), locked (`Some(false)`), or not
/// defined (`None`).
fn default_user_in_acl_file(text: &str) -> Option<bool> {
    text.lines().find_map(|line| {
        let tokens = crate::redisconf::tokenizer::split_args(line.trim()).ok()?;
        let args: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        match args.as_slice() {
            ["user", "default", rules @ ..] => Some(crate::redisconf::opens_default_user(rules)),
            _ => None,
        }
    })
}
