//! Reading what the user points at: files, directories (recursively, YAML and JSON by
//! extension, in a stable order) and `-` for standard input. The only I/O before the faces.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::source::{Limits, SourceFile, load_yaml};

/// An input that cannot be read at all (the exit-2 kind of error).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not UTF-8 text (first invalid byte at line {line}); not read")]
    NotText { path: String, line: usize },
}

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Every file named, and every YAML/JSON file under every directory named, in sorted order.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" || !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        walk(p, &mut out)?;
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let io = |source| InputError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    for e in entries {
        let hidden = e
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if e.is_dir() {
            walk(&e, out)?;
        } else if e
            .extension()
            .is_some_and(|x| EXTENSIONS.contains(&x.to_string_lossy().as_ref()))
        {
            out.push(e);
        }
    }
    Ok(())
}

/// Read and load one input (`-` is standard input, shown as `<stdin>`).
pub fn read_source(path: &Path, limits: &Limits) -> Result<SourceFile, InputError> {
    let (name, bytes) = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(limits.max_bytes as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|source| InputError::Io {
                path: "<stdin>".into(),
                source,
            })?;
        ("<stdin>".to_string(), buf)
    } else {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| InputError::Io {
            path: name.clone(),
            source,
        })?;
        (name, bytes)
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        InputError::NotText {
            path: name.clone(),
            line: valid.iter().filter(|&&b| b == b'\n').count() + 1,
        }
    })?;
    Ok(load_yaml(&name, text, limits))
}
