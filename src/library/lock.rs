//! The writer's lock: an operating-system file lock, released by the OS when the writer
//! exits in any way (kill -9 included), so it never needs taking over. The pid written
//! into the file only serves the message a second writer gets.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek, Write};
use std::path::Path;

use super::Library;
use crate::{Error, Result};

/// Held by the one process writing an index, for as long as it lives.
#[derive(Debug)]
pub struct WriterLock {
    lock: File,
    _active: File,
}

fn open_rw(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// The pid a lock file holds, if it holds one.
pub(super) fn pid_in(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The pid of the process holding the lock file at `path`. The holder writes it just after
/// taking the lock (and clears it before letting go), so an empty file is read again for a
/// moment.
fn holder_pid(path: &Path) -> Option<u32> {
    for _ in 0..100 {
        if let Some(pid) = pid_in(path) {
            return Some(pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}

impl WriterLock {
    /// Takes the writer's lock of `library`. When another process holds it: with `wait`,
    /// tells `wait` the holder's pid and blocks until it is released; without, refuses with
    /// [`Error::Locked`].
    pub fn acquire(library: &Library, wait: Option<&dyn Fn(Option<u32>)>) -> Result<Self> {
        let not_writable = |e: std::io::Error| Error::IndexNotWritable {
            path: library.dir().to_path_buf(),
            reason: e.to_string(),
        };
        if library.dir().is_file() {
            return Err(Error::IndexIsAFile {
                path: library.dir().to_path_buf(),
            });
        }
        std::fs::create_dir_all(library.dir()).map_err(not_writable)?;
        let path = library.write_lock();
        let mut lock = open_rw(&path).map_err(not_writable)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let pid = holder_pid(&path);
                let Some(wait) = wait else {
                    return Err(Error::Locked {
                        index: library.dir().to_path_buf(),
                        pid,
                    });
                };
                wait(pid);
                lock.lock().map_err(not_writable)?;
            }
            Err(TryLockError::Error(e)) => return Err(not_writable(e)),
        }
        lock.set_len(0)
            .and_then(|()| lock.rewind())
            .and_then(|()| writeln!(lock, "{}", std::process::id()))
            .map_err(not_writable)?;
        // Only this process takes it exclusively; `status` takes it shared for an instant.
        let active = open_rw(&library.writer_active()).map_err(not_writable)?;
        active.lock().map_err(not_writable)?;
        Ok(WriterLock {
            lock,
            _active: active,
        })
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // No pid is left to name once the lock is free (the OS releases it when the file
        // closes, just after).
        let _ = self.lock.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid_and_gets_the_lock_once_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let first = WriterLock::acquire(&library, None).unwrap();
        assert_eq!(library.writer_pid(), Some(std::process::id()));
        let err = WriterLock::acquire(&library, None).unwrap_err().to_string();
        assert!(
            err.contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        drop(first);
        assert_eq!(library.writer_pid(), None);
        let _again = WriterLock::acquire(&library, None).unwrap();
    }

    #[test]
    fn a_lock_file_left_behind_with_any_pid_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        std::fs::create_dir_all(library.dir()).unwrap();
        // A crashed writer's file, its pid now another live process's (1, init) or empty.
        for content in ["1\n", ""] {
            std::fs::write(library.write_lock(), content).unwrap();
            let lock = WriterLock::acquire(&library, None).unwrap();
            assert_eq!(pid_in(&library.write_lock()), Some(std::process::id()));
            drop(lock);
            assert_eq!(pid_in(&library.write_lock()), None, "cleared on release");
        }
    }

    #[test]
    fn a_waiting_writer_is_told_the_holder_and_proceeds_when_it_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::at(dir.path().join(".lexsearch"));
        let first = WriterLock::acquire(&library, None).unwrap();
        let told = std::sync::Mutex::new(None);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let note = |pid| *told.lock().unwrap() = Some(pid);
                WriterLock::acquire(&library, Some(&note)).map(|_| ())
            });
            // The waiter blocks until the first lock goes.
            while told.lock().unwrap().is_none() {
                std::thread::yield_now();
            }
            drop(first);
            waiter.join().unwrap().unwrap();
        });
        assert_eq!(*told.lock().unwrap(), Some(Some(std::process::id())));
    }
}
