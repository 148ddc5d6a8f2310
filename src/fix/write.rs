//! Writing fixed files: atomically, and never over a change `fix` did not read.
//!
//! `fix` reads a file, computes its edits (which can take a while on a large repository) and
//! writes the result. If an editor, `git checkout` or a formatter changed the file in the
//! meantime, renaming the fixed text over it would silently throw their change away. So the
//! file on disk is compared with the bytes that were read at the last moment before the
//! rename; a file that differs is left as it is and reported.
//!
//! What is left: a write that lands between that comparison and the rename (microseconds,
//! against the whole run before it) is still replaced. Closing that gap would take a lock
//! every other writer honours, which editors do not.

use std::io::Write as _;
use std::path::Path;

use super::FixRun;
use crate::input::STDIN;

/// Why a fixed file was not written.
#[derive(Debug)]
pub enum NotWritten {
    /// The file on disk is no longer the text `fix` read: someone changed it meanwhile.
    Changed,
    /// The file is read-only: its owner chose that it not be changed (renaming a new file
    /// over it would succeed wherever the directory is writable, root or not).
    ReadOnly,
    /// Reading, writing or renaming failed.
    Io(std::io::Error),
}

impl std::fmt::Display for NotWritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotWritten::Changed => f.write_str("changed while being fixed, not written"),
            NotWritten::ReadOnly => {
                f.write_str("read-only, not written (make it writable to let `fix` change it)")
            }
            NotWritten::Io(e) => write!(f, "cannot write: {e} (the file is unchanged)"),
        }
    }
}

impl From<std::io::Error> for NotWritten {
    fn from(e: std::io::Error) -> Self {
        NotWritten::Io(e)
    }
}

/// A file `fix` meant to write and did not.
#[derive(Debug)]
pub struct Unwritten {
    pub file: String,
    pub why: NotWritten,
}

/// Write every changed file of `run` (standard input is the caller's to print); the files
/// that were not written, and why.
pub fn write_files(run: &FixRun) -> Vec<Unwritten> {
    write_files_with(run, &mut |_| {})
}

/// [`write_files`] with `before_compare` called for each file after its fixed text is on disk
/// in the temporary file and before the file is compared with what was read: where a test
/// changes the file to see that the change is kept.
pub fn write_files_with(run: &FixRun, before_compare: &mut dyn FnMut(&Path)) -> Vec<Unwritten> {
    let mut unwritten = Vec::new();
    for f in run.files.iter().filter(|f| f.changed() && f.name != STDIN) {
        let path = Path::new(&f.name);
        if let Err(why) =
            write_if_unchanged(path, &f.original, &f.fixed, &mut || before_compare(path))
        {
            unwritten.push(Unwritten {
                file: f.name.clone(),
                why,
            });
        }
    }
    unwritten
}

/// Replace `path`'s contents with `fixed`, atomically, if it still holds exactly `read`: a
/// temporary file in the same directory, flushed to disk, given the old file's permissions
/// (and owner, where allowed), compared, then renamed over it. A symbolic link is followed:
/// the file it points to is replaced, the link kept. A read-only file is not written. A file
/// with several hard links is written in place instead (after the same comparison, but not
/// atomically), so the links keep sharing it: a rename would leave the others with the old
/// text. Otherwise, on any failure the temporary file is removed and `path` is untouched.
pub fn write_if_unchanged(
    path: &Path,
    read: &str,
    fixed: &str,
    before_compare: &mut dyn FnMut(),
) -> Result<(), NotWritten> {
    let target = std::fs::canonicalize(path)?;
    let meta = std::fs::metadata(&target)?;
    if meta.permissions().readonly() {
        return Err(NotWritten::ReadOnly);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return write_in_place(&target, read, fixed, before_compare);
        }
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".redline-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(fixed.as_bytes())?;
    tmp.as_file().sync_all()?;
    std::fs::set_permissions(tmp.path(), meta.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Only root may give a file away; an ordinary user's own files keep their owner.
        let _ = std::os::unix::fs::chown(tmp.path(), Some(meta.uid()), Some(meta.gid()));
    }
    before_compare();
    // Content, not size and mtime: a change within the mtime's granularity that keeps the
    // size (a formatter flipping quotes) would pass those.
    if std::fs::read(&target)? != read.as_bytes() {
        return Err(NotWritten::Changed);
    }
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

/// For a file with several hard links: compare, then overwrite the same inode.
#[cfg(unix)]
fn write_in_place(
    target: &Path,
    read: &str,
    fixed: &str,
    before_compare: &mut dyn FnMut(),
) -> Result<(), NotWritten> {
    before_compare();
    if std::fs::read(target)? != read.as_bytes() {
        return Err(NotWritten::Changed);
    }
    let mut file = std::fs::File::options()
        .write(true)
        .truncate(true)
        .open(target)?;
    file.write_all(fixed.as_bytes())?;
    file.sync_all()?;
    Ok(())
}
