//! Reading a published catalog without opening it in place.
//!
//! sled writes into a database's folder whenever it opens it, even to read: it recovers its
//! log, zeroes the tail of the last segment and writes a new snapshot file. A process killed
//! in the middle of that leaves the database unreadable ("Read corrupted data at file offset
//! None"), so a published generation's catalog is never opened where it lies: a run lists
//! the documents from the generation's `documents` file and reuses vectors from the copy it
//! stages, and everything else (`verify`, `bench`, a rebuild's reuse of vectors, a
//! generation without the file) reads a private copy in `reading/`, deleted when done. A
//! copy left by a killed process is deleted by the next one made, or by the next writer.

use std::fs::{self, File};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{GenerationPaths, Library, copy_tree, private_dir, remove_dir_if_exists};
use crate::store::Catalog;
use crate::{Error, Result};

/// The folder of private copies, inside the index folder (never the system's temporary
/// folder: a catalog holds the documents' text).
pub(super) const READING_DIR: &str = "reading";
/// Held exclusively by the process reading a copy, for as long as it reads it.
const COPY_LOCK: &str = "copy.lock";
/// A copy folder's name while it is made, before its lock is held.
const UNFINISHED_PREFIX: &str = ".new-";
/// How old an unfinished copy folder must be before another process deletes it.
const UNFINISHED_AGE: Duration = Duration::from_secs(3600);

/// A catalog opened to be read: a private copy of a published generation's, deleted when
/// this is dropped, or a catalog the writer owns (the one it stages, `resume/`).
pub struct ReadCatalog {
    catalog: Option<Catalog>,
    /// The private copy's folder and the lock held on it.
    copy: Option<(PathBuf, File)>,
}

impl ReadCatalog {
    /// A catalog the caller may open in place (one it writes itself, or one no reader
    /// relies on).
    pub fn owned(catalog: Catalog) -> Self {
        ReadCatalog {
            catalog: Some(catalog),
            copy: None,
        }
    }

    /// Whether this reads a private copy (deleted when dropped).
    pub fn is_copy(&self) -> bool {
        self.copy.is_some()
    }
}

impl Deref for ReadCatalog {
    type Target = Catalog;

    fn deref(&self) -> &Catalog {
        match &self.catalog {
            Some(c) => c,
            // Only `drop` takes it.
            None => unreachable!("a ReadCatalog is read only while it lives"),
        }
    }
}

impl Drop for ReadCatalog {
    fn drop(&mut self) {
        // sled lets go of its files first; then the copy goes, its lock last.
        drop(self.catalog.take());
        if let Some((dir, lock)) = self.copy.take() {
            let _ = fs::remove_dir_all(&dir);
            drop(lock);
        }
    }
}

impl Library {
    fn reading(&self) -> PathBuf {
        self.dir.join(READING_DIR)
    }

    /// Opens a private copy of the catalog of `paths` (a generation of this index), in
    /// `reading/`; the copy is deleted when the returned handle is dropped. Copies that
    /// killed processes left are deleted first.
    pub fn read_catalog(&self, paths: &GenerationPaths) -> Result<ReadCatalog> {
        static MADE: AtomicU64 = AtomicU64::new(0);
        let reading = self.reading();
        self.remove_stale_copies();
        private_dir(&reading)?;
        let name = format!(
            "{}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed)
        );
        // Made under a name no other process deletes (for an hour), locked, then named.
        let unfinished = reading.join(format!("{UNFINISHED_PREFIX}{name}"));
        remove_dir_if_exists(&unfinished)?;
        private_dir(&unfinished)?;
        let lock_path = unfinished.join(COPY_LOCK);
        let lock = File::create(&lock_path).map_err(|e| Error::io("create", &lock_path, e))?;
        lock.lock().map_err(|e| Error::io("lock", &lock_path, e))?;
        let dir = reading.join(&name);
        remove_dir_if_exists(&dir)?;
        fs::rename(&unfinished, &dir).map_err(|e| Error::io("rename", &unfinished, e))?;
        let mut read = ReadCatalog {
            catalog: None,
            copy: Some((dir.clone(), lock)),
        };
        copy_tree(&paths.catalog(), &dir.join("catalog"))?;
        read.catalog = Some(Catalog::open(&dir.join("catalog"))?);
        Ok(read)
    }

    /// Deletes the copies in `reading/` that no process holds (their reader was killed),
    /// and unfinished ones an hour old: before each copy is made, and when a writer starts.
    /// Best effort: what cannot be deleted stays.
    pub(super) fn remove_stale_copies(&self) {
        let Ok(entries) = fs::read_dir(self.reading()) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = if name.starts_with(UNFINISHED_PREFIX) {
                entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > UNFINISHED_AGE)
            } else {
                // Named only once locked: a lock that can be taken is no one's.
                match File::open(path.join(COPY_LOCK)) {
                    Ok(lock) => lock.try_lock().is_ok(),
                    Err(_) => true,
                }
            };
            if stale {
                let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ids::{ChunkId, DocId};
    use crate::library::test_support;
    use std::path::Path;

    #[test]
    fn a_catalog_is_read_from_a_private_copy_that_goes_when_read_and_leaves_the_original_untouched()
    {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join("index"));
        test_support::commit_documents(&library, 2);
        let snapshot = library.snapshot().unwrap();
        let files = |p: &Path| -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
            walkdir::WalkDir::new(p)
                .sort_by_file_name()
                .into_iter()
                .map(|e| e.unwrap())
                .map(|e| {
                    let m = e.metadata().unwrap();
                    (e.path().to_path_buf(), m.len(), m.modified().ok())
                })
                .collect()
        };
        let before = files(&snapshot.paths().catalog());
        {
            let read = library.read_catalog(snapshot.paths()).unwrap();
            assert!(read.is_copy());
            assert_eq!(read.documents().unwrap().len(), 2);
            let chunk = read.documents().unwrap()[0].1.chunks[0];
            assert!(read.vector(chunk).unwrap().is_some());
            assert_eq!(fs::read_dir(library.reading()).unwrap().count(), 1);
            // Two at once, each its own.
            let second = library.read_catalog(snapshot.paths()).unwrap();
            assert_eq!(
                second.document(DocId(0)).unwrap().unwrap().rel,
                Path::new("doc-0.txt")
            );
            assert_eq!(fs::read_dir(library.reading()).unwrap().count(), 2);
            assert!(second.chunk(ChunkId(0)).unwrap().is_some());
        }
        assert_eq!(fs::read_dir(library.reading()).unwrap().count(), 0);
        // Not a byte, not a file, not a time of the published catalog changed.
        assert_eq!(files(&snapshot.paths().catalog()), before);
    }

    #[test]
    fn copies_left_by_killed_readers_are_deleted_and_held_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join("index"));
        test_support::commit_documents(&library, 1);
        let snapshot = library.snapshot().unwrap();
        let held = library.read_catalog(snapshot.paths()).unwrap();
        // A killed reader's copy: its lock file is there but no one holds it; another's
        // without even a lock file; an unfinished one of a moment ago.
        let reading = library.reading();
        let killed = reading.join("999999-0");
        copy_tree(&snapshot.paths().catalog(), &killed.join("catalog")).unwrap();
        fs::write(killed.join(COPY_LOCK), b"").unwrap();
        fs::create_dir_all(reading.join("999999-1/catalog")).unwrap();
        fs::create_dir_all(reading.join(".new-999999-2")).unwrap();
        let next = library.read_catalog(snapshot.paths()).unwrap();
        let mut left: Vec<String> = fs::read_dir(&reading)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let pid = std::process::id();
        assert_eq!(
            left,
            [
                ".new-999999-2".to_string(),
                format!("{pid}-{}", held_number(&held)),
                format!("{pid}-{}", held_number(&next)),
            ]
        );
        assert_eq!(held.documents().unwrap().len(), 1);
        // A writer deletes them too as it starts, so a killed `verify` leaves no copy for
        // long even where no reader copies again.
        let killed_again = reading.join("999999-3");
        copy_tree(&snapshot.paths().catalog(), &killed_again.join("catalog")).unwrap();
        drop(next);
        drop(test_support::begin(&library));
        assert!(!killed_again.exists());
        assert!(
            held.documents().is_ok()
                && reading
                    .join(format!("{pid}-{}", held_number(&held)))
                    .exists()
        );
    }

    fn held_number(read: &ReadCatalog) -> String {
        let (dir, _) = read.copy.as_ref().unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        name.rsplit('-').next().unwrap().to_string()
    }
}
