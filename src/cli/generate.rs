//! `lexsearch generate`: shell completions and manual pages, written from the same clap
//! definitions as `--help`, so that they never fall behind it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;

use super::{Cli, Outcome};

/// What `lexsearch generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Generated {
    /// Manual pages in roff: lexsearch(1) on standard output, or with --dir one page per
    /// command (lexsearch.1, lexsearch-index.1, lexsearch-search.1, ...)
    Man,
    /// Completions for bash (`lexsearch generate complete-bash >
    /// ~/.local/share/bash-completion/completions/lexsearch`)
    CompleteBash,
    /// Completions for zsh (save as `_lexsearch` in a folder of `$fpath`)
    CompleteZsh,
    /// Completions for fish (`lexsearch generate complete-fish >
    /// ~/.config/fish/completions/lexsearch.fish`)
    CompleteFish,
    /// Completions for PowerShell (dot-source the output from `$PROFILE`)
    CompletePowershell,
    /// Completions for elvish
    CompleteElvish,
}

impl Generated {
    /// The shell these completions are for; `None` for the manual pages.
    fn shell(self) -> Option<Shell> {
        match self {
            Generated::Man => None,
            Generated::CompleteBash => Some(Shell::Bash),
            Generated::CompleteZsh => Some(Shell::Zsh),
            Generated::CompleteFish => Some(Shell::Fish),
            Generated::CompletePowershell => Some(Shell::PowerShell),
            Generated::CompleteElvish => Some(Shell::Elvish),
        }
    }
}

/// Arguments of `lexsearch generate`.
#[derive(Debug, Args)]
pub(super) struct GenerateArgs {
    /// What to write.
    #[arg(value_name = "WHAT")]
    what: Generated,
    /// For `man`: write every page into this folder (created if missing) and list them,
    /// instead of lexsearch(1) on standard output: `lexsearch generate man --dir
    /// ~/.local/share/man/man1`, then `man lexsearch-search`.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Writes what `args` asks for to standard output (or the folder of `--dir`).
pub(super) fn run(args: GenerateArgs) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match (args.what.shell(), &args.dir) {
        (Some(shell), None) => {
            clap_complete::generate(shell, &mut command(), "lexsearch", &mut out)
        }
        (Some(_), Some(_)) => {
            anyhow::bail!(
                "--dir is for `lexsearch generate man`; completions go to standard output"
            )
        }
        (None, Some(dir)) => {
            for page in man_pages(dir)? {
                writeln!(out, "{}", page.display())?;
            }
        }
        (None, None) => clap_mangen::Man::new(command()).render(&mut out)?,
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

/// The whole command line as clap sees it, built (so that every command knows its full name,
/// `lexsearch index`), without the `help` command, which has no page of its own.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Writes lexsearch.1 and one page per command (nested ones too: lexsearch-model-pull.1)
/// into `dir`, returning their paths in the order written.
fn man_pages(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "creating {}: choose a folder you can write to",
            dir.display()
        )
    })?;
    let mut written = Vec::new();
    let mut todo = vec![command()];
    while let Some(cmd) = todo.pop() {
        let subcommands: Vec<_> = cmd
            .get_subcommands()
            .filter(|c| !c.is_hide_set())
            .cloned()
            .collect();
        // Reversed onto the stack: pages are written in the order of `--help`.
        todo.extend(subcommands.into_iter().rev());
        let page = clap_mangen::Man::new(cmd);
        let path = page
            .generate_to(dir)
            .with_context(|| format!("writing a manual page into {}", dir.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_pages_cover_every_command_with_its_options() {
        let dir = tempfile::tempdir().unwrap();
        let pages = man_pages(dir.path()).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names[0], "lexsearch.1");
        for name in [
            "lexsearch-index.1",
            "lexsearch-search.1",
            "lexsearch-model-pull.1",
        ] {
            assert!(
                names.iter().any(|n| n == name),
                "{name} missing from {names:?}"
            );
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
        let search = std::fs::read_to_string(dir.path().join("lexsearch-search.1")).unwrap();
        assert!(search.contains("max\\-per\\-file"), "{search}");
        assert!(search.starts_with(".ie"), "not roff: {search}");
    }
}
