//! Where an index lives on disk, finding it, and the writer's lock.
//!
//! ```text
//! DIR/.lexsearch/            the index (or any folder given with --index)
//!   manifest.json            model, chunker settings, counts (written last)
//!   catalog/                 sled: documents, chunks, vectors (source of truth)
//!   keyword/                 tantivy
//!   vectors/                 hnsw_rs graph dump
//! DIR/.lexsearch.building/   the next version, while `index` runs
//! DIR/.lexsearch.resume/     what an interrupted run left, read for its vectors
//! DIR/.lexsearch.lock        held by the one running `index`
//! ```
//! A run builds the next version beside the current one and swaps it in with two renames, so
//! an interrupted run (Ctrl-C, kill, power loss) leaves the previous index intact.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::store::manifest_file;
use crate::{Error, Result};

/// Name of the index folder inside an indexed folder, by default.
pub const DEFAULT_INDEX_DIR: &str = ".lexsearch";

/// The paths of one index folder and its siblings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPaths {
    dir: PathBuf,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.file_name().map(OsString::from).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

impl IndexPaths {
    /// Paths for the index folder `dir`.
    pub fn new(dir: &Path) -> Self {
        IndexPaths {
            dir: dir.to_path_buf(),
        }
    }

    /// The index folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest file.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join(manifest_file())
    }

    /// The catalog (sled) folder.
    pub fn catalog(&self) -> PathBuf {
        self.dir.join("catalog")
    }

    /// The keyword index (tantivy) folder.
    pub fn keyword(&self) -> PathBuf {
        self.dir.join("keyword")
    }

    /// The vector graph folder.
    pub fn vectors(&self) -> PathBuf {
        self.dir.join("vectors")
    }

    /// Where the next version is built.
    pub fn staging(&self) -> PathBuf {
        with_suffix(&self.dir, ".building")
    }

    /// Where the previous version waits while the new one is swapped in.
    pub fn previous(&self) -> PathBuf {
        with_suffix(&self.dir, ".previous")
    }

    /// Where the copy left by an interrupted run waits, so its vectors can be reused.
    pub fn resume(&self) -> PathBuf {
        with_suffix(&self.dir, ".resume")
    }

    /// Where a replaced version is moved before it is deleted, so that a deletion cut short
    /// never leaves a half-deleted version under a name that recovery would use.
    pub fn trash(&self) -> PathBuf {
        with_suffix(&self.dir, ".trash")
    }

    /// The writer's lock file.
    pub fn lock(&self) -> PathBuf {
        with_suffix(&self.dir, ".lock")
    }

    /// Paths the walk must never index.
    pub fn own_paths(&self) -> Vec<PathBuf> {
        vec![
            self.dir.clone(),
            self.staging(),
            self.previous(),
            self.resume(),
            self.trash(),
            self.lock(),
        ]
    }

    /// Undoes a swap that a crash interrupted: if the index folder is missing but the previous
    /// version is there, the previous version is put back. Only the lock holder may call this.
    pub fn recover_interrupted_swap(&self) -> Result<()> {
        let prev = self.previous();
        if !self.dir.exists() && prev.is_dir() {
            fs::rename(&prev, &self.dir).map_err(|e| Error::io("restore", &self.dir, e))?;
        }
        Ok(())
    }

    /// The folder a reader should open: the index, or the previous version while a writer is
    /// between its two renames. Readers never move anything (only the lock holder does).
    pub fn readable_dir(&self) -> PathBuf {
        let prev = self.previous();
        if !self.manifest().is_file() && prev.join(manifest_file()).is_file() {
            prev
        } else {
            self.dir.clone()
        }
    }

    /// Makes the staged version current: current -> previous, staging -> current, drop previous.
    pub fn swap_in_staging(&self) -> Result<()> {
        let prev = self.previous();
        self.empty_trash()?;
        if prev.exists() {
            fs::rename(&prev, self.trash()).map_err(|e| Error::io("move aside", &prev, e))?;
        }
        if self.dir.exists() {
            fs::rename(&self.dir, &prev).map_err(|e| Error::io("move aside", &self.dir, e))?;
        }
        fs::rename(self.staging(), &self.dir)
            .map_err(|e| Error::io("move into place", &self.dir, e))?;
        if prev.exists() {
            fs::rename(&prev, self.trash()).map_err(|e| Error::io("move aside", &prev, e))?;
        }
        self.empty_trash()
    }

    /// Deletes what a swap moved aside (also what an interrupted deletion left).
    pub fn empty_trash(&self) -> Result<()> {
        let trash = self.trash();
        if trash.exists() {
            fs::remove_dir_all(&trash).map_err(|e| Error::io("remove", &trash, e))?;
        }
        Ok(())
    }
}

/// Copies a folder tree (regular files and folders; links are not followed).
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| Error::io("create", to, e))?;
    for entry in fs::read_dir(from).map_err(|e| Error::io("read", from, e))? {
        let entry = entry.map_err(|e| Error::io("read", from, e))?;
        let target = to.join(entry.file_name());
        let ty = entry
            .file_type()
            .map_err(|e| Error::io("read", entry.path(), e))?;
        if ty.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if ty.is_file() {
            fs::copy(entry.path(), &target).map_err(|e| Error::io("copy", entry.path(), e))?;
        }
    }
    Ok(())
}

/// Finds the index for a search: `DIR/.lexsearch` in `start` or the nearest folder above it,
/// the way git finds `.git`.
pub fn find_index(start: &Path) -> Result<PathBuf> {
    let start_abs = std::path::absolute(start).map_err(|e| Error::io("resolve", start, e))?;
    for dir in start_abs.ancestors() {
        let candidate = dir.join(DEFAULT_INDEX_DIR);
        let paths = IndexPaths::new(&candidate);
        if paths.manifest().is_file() || paths.previous().join(manifest_file()).is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::NoIndex { start: start_abs })
}

/// The writer's lock: a file holding the writer's process id, removed when dropped.
/// A lock left by a process that no longer runs is taken over.
#[derive(Debug)]
pub struct WriteLock {
    path: PathBuf,
}

impl WriteLock {
    /// Takes the lock of the index at `paths`, or says which process holds it.
    pub fn acquire(paths: &IndexPaths) -> Result<Self> {
        let path = paths.lock();
        for _ in 0..2 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(WriteLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let pid = fs::read_to_string(&path)
                        .ok()
                        .and_then(|s| s.trim().parse::<u32>().ok());
                    match pid {
                        Some(pid) if process_alive(pid) => {
                            return Err(Error::Locked {
                                index: paths.dir().to_path_buf(),
                                lock: path,
                                pid,
                            });
                        }
                        // Stale: its process is gone (or the file is garbage). Take it over.
                        _ => {
                            let _ = fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => {
                    return Err(Error::IndexNotWritable {
                        path: paths.dir().to_path_buf(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        Err(Error::IndexNotWritable {
            path: paths.dir().to_path_buf(),
            reason: format!("cannot take the lock {}", path.display()),
        })
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Whether a process with this id runs (Linux: /proc; elsewhere assume it does).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc_root = Path::new("/proc");
    if proc_root.join("self").exists() {
        proc_root.join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_paths_sit_beside_the_index() {
        let p = IndexPaths::new(Path::new("/docs/.lexsearch"));
        assert_eq!(p.staging(), PathBuf::from("/docs/.lexsearch.building"));
        assert_eq!(p.lock(), PathBuf::from("/docs/.lexsearch.lock"));
        assert_eq!(p.previous(), PathBuf::from("/docs/.lexsearch.previous"));
    }

    #[test]
    fn a_second_writer_is_refused_and_a_stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let paths = IndexPaths::new(&dir.path().join(".lexsearch"));
        let first = WriteLock::acquire(&paths).unwrap();
        let err = WriteLock::acquire(&paths).unwrap_err().to_string();
        assert!(
            err.contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        drop(first);
        // A lock left by a process that does not exist.
        fs::write(paths.lock(), "4294967").unwrap();
        let _again = WriteLock::acquire(&paths).unwrap();
    }

    #[test]
    fn an_interrupted_swap_is_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let paths = IndexPaths::new(&dir.path().join(".lexsearch"));
        fs::create_dir(paths.previous()).unwrap();
        fs::write(paths.previous().join("manifest.json"), "{}").unwrap();
        paths.recover_interrupted_swap().unwrap();
        assert!(paths.manifest().is_file());
    }

    #[test]
    fn find_index_walks_up_like_git() {
        let dir = tempfile::tempdir().unwrap();
        let idx = dir.path().join(DEFAULT_INDEX_DIR);
        fs::create_dir(&idx).unwrap();
        fs::write(idx.join("manifest.json"), "{}").unwrap();
        let deep = dir.path().join("a/b");
        fs::create_dir_all(&deep).unwrap();
        assert_eq!(find_index(&deep).unwrap(), idx);
        let other = tempfile::tempdir().unwrap();
        assert!(matches!(
            find_index(other.path()),
            Err(Error::NoIndex { .. })
        ));
    }
}
