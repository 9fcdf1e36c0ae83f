//! Programs lexsearch runs as child processes (Tesseract and pdftoppm for OCR, `readpst` for
//! Outlook data files): found on the `PATH`, run with a time budget, killed when it runs out.
//! A crash or a hang of such a program ends that process only.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why a program gave no output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    /// It could not be started.
    #[error("cannot start: {0}")]
    Start(String),
    /// It ran past its budget and was killed.
    #[error("timed out after {} s", .0.as_secs_f64())]
    TimedOut(Duration),
    /// It ended with a failure: its exit status and the start of what it printed on stderr.
    #[error("{0}")]
    Failed(String),
    /// A signal ended it (Ctrl-C reaches the programs of the terminal's foreground job too):
    /// it says nothing of its input.
    #[error("stopped by {0}")]
    Stopped(String),
}

/// The path of `name` in a folder of the `PATH`, if it is there.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs a program, killing it after `timeout`; its standard output on success.
pub fn run(cmd: &mut Command, timeout: Duration) -> Result<Vec<u8>, ProgramError> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ProgramError::Start(e.to_string()))?;
    // Drain both pipes on their own threads, so a chatty program never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ProgramError::TimedOut(timeout));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(ProgramError::Failed(e.to_string())),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if status.success() {
        Ok(stdout)
    } else if status.code().is_none() {
        Err(ProgramError::Stopped(status.to_string()))
    } else {
        let msg = String::from_utf8_lossy(&stderr);
        let msg = msg.split_whitespace().collect::<Vec<_>>().join(" ");
        let msg: String = msg.chars().take(200).collect();
        Err(ProgramError::Failed(format!("{status}: {msg}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hung_program_is_killed_after_its_budget() {
        let started = Instant::now();
        let got = run(
            Command::new("sh").args(["-c", "sleep 30"]),
            Duration::from_millis(200),
        );
        assert_eq!(
            got.unwrap_err(),
            ProgramError::TimedOut(Duration::from_millis(200))
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        let failed = run(
            Command::new("sh").args(["-c", "echo broken >&2; exit 3"]),
            Duration::from_secs(10),
        );
        assert!(failed.unwrap_err().to_string().contains("broken"));
        let ok = run(
            Command::new("sh").args(["-c", "echo hi"]),
            Duration::from_secs(10),
        );
        assert_eq!(ok.unwrap(), b"hi\n");
        // Ended by a signal (as by Ctrl-C), not by its input. SIGTERM, not SIGINT: a shell
        // started in the background without job control inherits SIGINT ignored, and so
        // would its `kill -INT $$`.
        let stopped = run(
            Command::new("sh").args(["-c", "kill -TERM $$; sleep 5"]),
            Duration::from_secs(10),
        );
        assert!(
            matches!(stopped, Err(ProgramError::Stopped(_))),
            "{stopped:?}"
        );
    }
}
