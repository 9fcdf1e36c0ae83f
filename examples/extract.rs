//! Prints what lexsearch extracts from a file, with its page or paragraph ranges (a debugging
//! aid): `cargo run --example extract -- FILE [--ranges]`.
use std::path::PathBuf;

use lexsearch::ingest::extract::{ExtractLimits, extract_with};
use lexsearch::ingest::walk::{FileKind, SourceFile};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .ok_or_else(|| anyhow::anyhow!("usage: extract FILE [--ranges]"))?,
    );
    let ranges = args.next().is_some_and(|a| a == "--ranges");
    let kind = FileKind::from_path(&path)
        .ok_or_else(|| anyhow::anyhow!("unsupported file type: {}", path.display()))?;
    let file = SourceFile {
        rel: path.file_name().map(PathBuf::from).unwrap_or_default(),
        size: std::fs::metadata(&path)?.len(),
        path,
        kind,
        mtime_ns: 0,
    };
    let x = extract_with(&file, &ExtractLimits::default())?;
    if ranges {
        for (name, list) in [("page", &x.pages), ("paragraph", &x.paragraphs)] {
            for (i, r) in list.iter().enumerate() {
                println!("--- {name} {} ({r:?})\n{}", i + 1, &x.text[r.clone()]);
            }
        }
    } else {
        println!("{}", x.text);
    }
    eprintln!(
        "title: {:?}; {} bytes, {} pages, {} paragraphs",
        x.title,
        x.text.len(),
        x.pages.len(),
        x.paragraphs.len()
    );
    Ok(())
}
