//! `lexsearch model pull ORG/NAME`: a model from the Hugging Face hub into the model cache.

use super::Outcome;

/// Pulls `name` at `revision` into the model cache and prints what it did.
#[cfg(feature = "hub")]
pub(super) fn run(name: &str, revision: &str, json: bool) -> anyhow::Result<Outcome> {
    use std::io::IsTerminal;

    use crate::embed::hub::Hub;

    let hub = Hub::from_env();
    let cache = crate::embed::model_cache_dir();
    let progress = Bar::new(!json && std::io::stderr().is_terminal());
    let report = hub.pull(name, revision, &cache, &progress);
    progress.bar.finish_and_clear();
    let report = report?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if report.up_to_date {
        println!(
            "{} is up to date at {} ({})",
            report.repo,
            short(&report.commit),
            report.dir.display()
        );
    } else {
        let resumed = if report.resumed_bytes > 0 {
            format!(
                ", {} kept from an interrupted pull",
                mb(report.resumed_bytes)
            )
        } else {
            String::new()
        };
        println!(
            "pulled {} at {} ({}): {} files, {} downloaded{resumed}, checksums verified\n  into {}\n  use it with --model {}",
            report.repo,
            report.revision,
            short(&report.commit),
            report.files.len(),
            mb(report.downloaded_bytes),
            report.dir.display(),
            report.repo
        );
    }
    Ok(Outcome::Ok)
}

/// Without the `hub` feature there is no HTTP client: say how to get one.
#[cfg(not(feature = "hub"))]
pub(super) fn run(name: &str, _revision: &str, _json: bool) -> anyhow::Result<Outcome> {
    anyhow::bail!(
        "this lexsearch was built without the `hub` feature: rebuild with `--features hub` to pull \
         {name}, or download the model folder by other means and pass `--model DIR`"
    )
}

#[cfg(feature = "hub")]
fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

#[cfg(feature = "hub")]
fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// A byte progress bar over the whole pull, naming the file being fetched.
#[cfg(feature = "hub")]
struct Bar {
    bar: indicatif::ProgressBar,
}

#[cfg(feature = "hub")]
impl Bar {
    fn new(visible: bool) -> Self {
        let bar = if visible {
            indicatif::ProgressBar::new(0)
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}  {msg}  ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Bar { bar }
    }
}

#[cfg(feature = "hub")]
impl crate::embed::hub::PullProgress for Bar {
    fn planned(&self, _files: usize, bytes: u64) {
        self.bar.set_length(bytes);
    }

    fn file_started(&self, path: &str, _size: u64, resumed: u64) {
        if resumed > 0 {
            self.bar
                .set_message(format!("{path} (resumed at {})", mb(resumed)));
        } else {
            self.bar.set_message(path.to_string());
        }
    }

    fn bytes(&self, n: u64) {
        self.bar.inc(n);
    }
}
