//! Reading what the user points at: files, directories (recursively, YAML and JSON by
//! extension, honouring `.gitignore` and `--exclude`, in a stable order) and `-` for standard
//! input. Files are read and parsed in parallel; the result keeps the order of the walk. The
//! only I/O before the faces.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::source::{Diagnostic, Limits, Pos, SourceFile, load_yaml};

/// The name standard input goes by in reports.
pub const STDIN: &str = "<stdin>";

/// An input that cannot be read at all (the exit-2 kind of error).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Walk { path: String, message: String },
    #[error("--exclude {glob:?}: {message}")]
    Exclude { glob: String, message: String },
}

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Whether a file of a directory is read: `.yaml`, `.yml` or `.json`.
pub fn is_manifest(path: &Path) -> bool {
    path.extension()
        .is_some_and(|x| EXTENSIONS.contains(&x.to_string_lossy().as_ref()))
}

/// A file name's bytes percent-encoded for the path of a URI: RFC 3986's unreserved
/// characters and `/` are kept, every other byte is `%XX` (SARIF's artifact locations, the
/// language server's `file:` URIs).
pub fn uri_path(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How directories are walked.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    /// gitignore-style globs, relative to the working directory: `charts/**`, `*.tmpl.yaml`.
    /// They apply to files named on the command line too (as pre-commit passes them).
    pub exclude: Vec<String>,
    /// Read ignored files too (`--no-ignore`): `.gitignore`, `.ignore` and git's exclude file
    /// are honoured by default, even outside a git repository.
    pub no_ignore: bool,
}

/// Every file named, and every YAML/JSON file under every directory named, without
/// repeats. Directories are walked in file-name order; hidden entries are skipped.
pub fn expand_paths(paths: &[PathBuf], walk: &Walk) -> Result<Vec<PathBuf>, InputError> {
    let cwd = std::env::current_dir().map_err(|source| InputError::Io {
        path: ".".into(),
        source,
    })?;
    let mut overrides = ignore::overrides::OverrideBuilder::new(&cwd);
    for glob in &walk.exclude {
        // An override glob with `!` excludes; with no positive glob, everything else stays.
        overrides
            .add(&format!("!{glob}"))
            .map_err(|e| InputError::Exclude {
                glob: glob.clone(),
                message: e.to_string(),
            })?;
    }
    let overrides = overrides.build().map_err(|e| InputError::Exclude {
        glob: walk.exclude.join(" "),
        message: e.to_string(),
    })?;
    // A file named on the command line is excluded by a glob matching it or one of its
    // directories (`--exclude charts/` leaves out `charts/x/templates/a.yaml`).
    let excluded = |p: &Path| {
        let absolute = cwd.join(p);
        overrides.matched(&absolute, false).is_ignore()
            || absolute
                .ancestors()
                .skip(1)
                .take_while(|a| a.starts_with(&cwd) && *a != cwd)
                .any(|a| overrides.matched(a, true).is_ignore())
    };

    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(p.clone());
            continue;
        }
        if !p.is_dir() {
            if !excluded(p) {
                out.push(p.strip_prefix(".").unwrap_or(p).to_path_buf());
            }
            continue;
        }
        let walker = ignore::WalkBuilder::new(p)
            .standard_filters(!walk.no_ignore)
            .hidden(true)
            .require_git(false)
            .overrides(overrides.clone())
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            let entry = entry.map_err(|e| InputError::Walk {
                path: p.display().to_string(),
                message: e.to_string(),
            })?;
            let path = entry.path();
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            if is_file && is_manifest(path) {
                // `redline lint .` reports `k8s/x.yaml`, not `./k8s/x.yaml`: the form code
                // scanning and annotations match against the repository.
                out.push(path.strip_prefix(".").unwrap_or(path).to_path_buf());
            }
        }
    }
    // One file named twice (`a.yaml ./a.yaml k8s/`, a symlink) is read once: its objects
    // would otherwise be judged twice, and `fix` would write it twice.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    Ok(out)
}

/// Read and load every input, on every core; the result is in the order of `paths`. Every
/// read error is returned, not only the first.
pub fn read_all(paths: &[PathBuf], limits: &Limits) -> Result<Vec<SourceFile>, Vec<InputError>> {
    read_all_with(paths, limits, &|_| {})
}

/// [`read_all`], calling `on_read` with the number of files read so far after each file
/// (from the reading threads: a progress bar).
pub fn read_all_with(
    paths: &[PathBuf],
    limits: &Limits,
    on_read: &(dyn Fn(usize) + Sync),
) -> Result<Vec<SourceFile>, Vec<InputError>> {
    let read = AtomicUsize::new(0);
    let slots: Vec<OnceLock<Result<SourceFile, InputError>>> =
        paths.iter().map(|_| OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len());
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(path) = paths.get(i) else { break };
            let _ = slots[i].set(read_source(path, limits));
            on_read(read.fetch_add(1, Ordering::Relaxed) + 1);
        }
    };
    if workers <= 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(work);
            }
        });
    }
    let mut files = Vec::with_capacity(paths.len());
    let mut errors = Vec::new();
    for slot in slots {
        match slot.into_inner() {
            Some(Ok(f)) => files.push(f),
            Some(Err(e)) => errors.push(e),
            None => unreachable!("every index below paths.len() is taken by one worker"),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// At most `max_bytes + 1` bytes of `path`: a file, a symlink to one, or a device
/// (`/dev/zero`) alike, so that a cap is a cap before the read, not after it.
pub fn read_capped(path: &Path, max_bytes: usize) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut buf = Vec::new();
    file.take(max_bytes as u64 + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

/// A file over the size limit: one error diagnostic, nothing loaded. `raw` is what was read
/// of standard input (`fix -` passes it through, then the rest).
fn too_large(name: String, max_bytes: usize, raw: Option<Vec<u8>>) -> SourceFile {
    SourceFile {
        name,
        text: String::new(),
        documents: Vec::new(),
        diagnostics: vec![Diagnostic {
            pos: Pos {
                line: 1,
                column: 1,
                offset: 0,
            },
            message: format!("file is larger than the limit of {max_bytes} bytes; not read"),
            error: true,
        }],
        helm_sections: Vec::new(),
        raw,
    }
}

/// Read and load one input (`-` is standard input, shown as `<stdin>`). Bytes that are not
/// UTF-8 make a file with one error diagnostic (a document that does not load), not an I/O
/// error.
pub fn read_source(path: &Path, limits: &Limits) -> Result<SourceFile, InputError> {
    let (name, bytes) = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(limits.max_bytes as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|source| InputError::Io {
                path: STDIN.into(),
                source,
            })?;
        if buf.len() > limits.max_bytes {
            return Ok(too_large(STDIN.to_string(), limits.max_bytes, Some(buf)));
        }
        (STDIN.to_string(), buf)
    } else {
        let name = path.display().to_string();
        let bytes = read_capped(path, limits.max_bytes).map_err(|source| InputError::Io {
            path: name.clone(),
            source,
        })?;
        if bytes.len() > limits.max_bytes {
            return Ok(too_large(name, limits.max_bytes, None));
        }
        (name, bytes)
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(load_yaml(&name, text, limits)),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let pos = Pos {
                line: valid.iter().filter(|&&b| b == b'\n').count() as u32 + 1,
                column: String::from_utf8_lossy(&valid[line_start..])
                    .chars()
                    .count() as u32
                    + 1,
                offset: valid.len(),
            };
            Ok(SourceFile {
                name,
                text: String::new(),
                documents: Vec::new(),
                diagnostics: vec![Diagnostic {
                    pos,
                    message: "not UTF-8 text (Kubernetes manifests are UTF-8); file not read"
                        .to_string(),
                    error: true,
                }],
                helm_sections: Vec::new(),
                raw: Some(e.into_bytes()),
            })
        }
    }
}
