//! Compares PDF text backends on a folder of PDFs (the evidence behind docs/formats.md):
//! `cargo run --example pdf_backends -- DIR [--ref REFDIR] [--pdftotext] [--dump OUTDIR]`.
//!
//! Backends: `pdf-extract` (glyph positions, per page through `output_doc_page`), `lopdf`
//! (`Document::extract_text`, text operators only), each raw and through lexsearch's cleanup and, with `--pdftotext`, poppler's
//! `pdftotext` as a reference (not a candidate: it is a C++ program, not a crate).
//! For each it measures time per page, failures and panics, and text quality: word recall
//! and word-pair (order) recall against `REFDIR/NAME.ref.txt`, agreement of each page's
//! words with pdftotext's page, words broken by a line-end hyphen, ligature characters left,
//! and lines repeated on most pages (running headers and footers).
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use lexsearch::ingest::pdf::{self, PdfBackend};

type Pages = Vec<String>;

fn raw(bytes: &[u8], backend: PdfBackend) -> Result<Pages, String> {
    pdf::raw_pages(bytes, backend)
        .map(|(pages, _)| pages)
        .map_err(|e| e.to_string())
}

/// The whole pipeline: raw pages, then cleanup (headers/footers, hyphens, ligatures).
fn cleaned(bytes: &[u8], backend: PdfBackend) -> Result<Pages, String> {
    let x = pdf::extract_pdf(bytes, backend).map_err(|e| e.to_string())?;
    Ok(x.pages
        .iter()
        .map(|r| x.text[r.clone()].to_string())
        .collect())
}

fn pdftotext_pages(path: &Path) -> Result<Pages, String> {
    let out = Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut pages: Pages = text.split('\u{c}').map(String::from).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    Ok(pages)
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[derive(Default)]
struct Stats {
    files: usize,
    pages: usize,
    errors: usize,
    panics: usize,
    seconds: f64,
    ref_words: usize,
    found_words: usize,
    out_words: usize,
    ref_pairs: usize,
    found_pairs: usize,
    page_agree_sum: f64,
    page_agree_n: usize,
    page_count_mismatch: usize,
    hyphen_breaks: usize,
    ligatures: usize,
    repeated_lines: usize,
}

/// Fraction of `reference` items (with multiplicity) found in `got`.
fn recall<T: std::hash::Hash + Eq + Clone>(reference: &[T], got: &[T]) -> (usize, usize) {
    let mut bag: HashMap<T, usize> = HashMap::new();
    for g in got {
        *bag.entry(g.clone()).or_default() += 1;
    }
    let mut found = 0;
    for r in reference {
        if let Some(n) = bag.get_mut(r)
            && *n > 0
        {
            *n -= 1;
            found += 1;
        }
    }
    (found, reference.len())
}

fn jaccard(a: &str, b: &str) -> f64 {
    let a: HashSet<String> = words(a).into_iter().collect();
    let b: HashSet<String> = words(b).into_iter().collect();
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    a.intersection(&b).count() as f64 / a.union(&b).count() as f64
}

fn repeated_lines(pages: &Pages) -> usize {
    if pages.len() < 3 {
        return 0;
    }
    let mut count: HashMap<String, usize> = HashMap::new();
    for p in pages {
        let set: HashSet<String> = p
            .lines()
            .map(|l| {
                l.trim()
                    .chars()
                    .map(|c| if c.is_ascii_digit() { '#' } else { c })
                    .collect()
            })
            .filter(|l: &String| !l.is_empty())
            .collect();
        for l in set {
            *count.entry(l).or_default() += 1;
        }
    }
    count
        .values()
        .filter(|&&n| n * 10 >= pages.len() * 6)
        .count()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut refdir: Option<PathBuf> = None;
    let mut dump: Option<PathBuf> = None;
    let mut poppler = false;
    let mut repeat = 3;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--ref" => refdir = args.next().map(PathBuf::from),
            "--dump" => dump = args.next().map(PathBuf::from),
            "--pdftotext" => poppler = true,
            "--repeat" => repeat = args.next().unwrap().parse().unwrap(),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.expect("usage: pdf_backends DIR [--ref REFDIR] [--pdftotext] [--dump OUT]");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "pdf") || p.extension().is_none());
    if std::env::var_os("SHOW_PANICS").is_none() {
        std::panic::set_hook(Box::new(|_| {})); // panics are counted, not printed
    }
    let mut names = vec![
        "pdf-extract",
        "lopdf",
        "pdf-extract + cleanup",
        "lopdf + cleanup",
    ];
    if poppler {
        names.push("pdftotext");
    }
    let mut stats: Vec<Stats> = names.iter().map(|_| Stats::default()).collect();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let reference = if poppler {
            pdftotext_pages(path).ok()
        } else {
            None
        };
        let ref_text = refdir.as_ref().and_then(|r| {
            std::fs::read_to_string(r.join(path.file_stem()?).with_extension("ref.txt")).ok()
        });
        for (i, name) in names.iter().enumerate() {
            let s = &mut stats[i];
            s.files += 1;
            let started = Instant::now();
            let mut result = None;
            for _ in 0..repeat {
                let r = std::panic::catch_unwind(|| match *name {
                    "pdf-extract" => raw(&bytes, PdfBackend::PdfExtract),
                    "lopdf" => raw(&bytes, PdfBackend::Lopdf),
                    "pdf-extract + cleanup" => cleaned(&bytes, PdfBackend::PdfExtract),
                    "lopdf + cleanup" => cleaned(&bytes, PdfBackend::Lopdf),
                    _ => pdftotext_pages(path),
                });
                result = Some(r);
            }
            let elapsed = started.elapsed().as_secs_f64() / repeat as f64;
            let pages = match result.unwrap() {
                Err(_) => {
                    s.panics += 1;
                    eprintln!("{name}: {}: PANIC", path.display());
                    continue;
                }
                Ok(Err(e)) => {
                    s.errors += 1;
                    eprintln!("{name}: {}: error {e:.100}", path.display());
                    continue;
                }
                Ok(Ok(p)) => p,
            };
            s.seconds += elapsed;
            s.pages += pages.len();
            if let Some(out) = &dump {
                let d = out.join(name);
                std::fs::create_dir_all(&d).unwrap();
                let stem = path.file_stem().unwrap().to_string_lossy();
                let parent = path
                    .parent()
                    .and_then(|p| p.file_name())
                    .map(|p| p.to_string_lossy())
                    .unwrap_or_default();
                std::fs::write(
                    d.join(format!("{parent}-{stem}.txt")),
                    pages.join("\n<<<PAGE>>>\n"),
                )
                .unwrap();
            }
            let all = pages.join("\n");
            if let Some(r) = &ref_text {
                let rw = words(r);
                let gw = words(&all);
                let (f, n) = recall(&rw, &gw);
                s.found_words += f;
                s.ref_words += n;
                s.out_words += gw.len();
                let pairs = |w: &[String]| -> Vec<(String, String)> {
                    w.windows(2).map(|x| (x[0].clone(), x[1].clone())).collect()
                };
                let (f, n) = recall(&pairs(&rw), &pairs(&gw));
                s.found_pairs += f;
                s.ref_pairs += n;
            }
            if let Some(rp) = &reference {
                if rp.len() != pages.len() {
                    s.page_count_mismatch += 1;
                }
                for (a, b) in rp.iter().zip(&pages) {
                    s.page_agree_sum += jaccard(a, b);
                    s.page_agree_n += 1;
                }
            }
            s.hyphen_breaks += all
                .lines()
                .zip(all.lines().skip(1))
                .filter(|(a, b)| {
                    let a = a.trim_end();
                    a.ends_with('-')
                        && a[..a.len() - 1]
                            .chars()
                            .last()
                            .is_some_and(char::is_alphabetic)
                        && b.trim_start()
                            .chars()
                            .next()
                            .is_some_and(char::is_lowercase)
                })
                .count();
            s.ligatures += all
                .chars()
                .filter(|c| ('\u{fb00}'..='\u{fb06}').contains(c))
                .count();
            s.repeated_lines += repeated_lines(&pages);
        }
    }
    println!(
        "| backend | files ok | errors | panics | pages | ms/page | word recall | word precision | word-pair recall | page agreement with pdftotext | page-count mismatches | hyphen-broken words | ligature chars | repeated header/footer lines |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, s) in names.iter().zip(&stats) {
        let pct = |a: usize, b: usize| {
            if b == 0 {
                "-".to_string()
            } else {
                format!("{:.1} %", 100.0 * a as f64 / b as f64)
            }
        };
        println!(
            "| {name} | {}/{} | {} | {} | {} | {:.2} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.files - s.errors - s.panics,
            s.files,
            s.errors,
            s.panics,
            s.pages,
            1000.0 * s.seconds / s.pages.max(1) as f64,
            pct(s.found_words, s.ref_words),
            pct(s.found_words, s.out_words),
            pct(s.found_pairs, s.ref_pairs),
            if s.page_agree_n == 0 {
                "-".into()
            } else {
                format!("{:.3}", s.page_agree_sum / s.page_agree_n as f64)
            },
            s.page_count_mismatch,
            s.hyphen_breaks,
            s.ligatures,
            s.repeated_lines,
        );
    }
}
