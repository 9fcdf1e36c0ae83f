//! OCR speed and word accuracy on generated scanned pages (docs/formats.md, "OCR").
//!
//! `cargo run --release --example ocr_bench -- [PAGES]` (default 8): builds PAGES pages of
//! legal text from assets/corpus as a text PDF, renders them to 200 dpi greyscale images
//! with `pdftoppm` and wraps those into an image-only PDF (as a scanner would), then reads
//! the pages back with lexsearch's OCR (pdftoppm at 300 dpi + tesseract, no cache) on 1, 2
//! and all cores, printing pages/s and the word accuracy (1 − word edit distance / words)
//! against the text that was rendered. Also prints the fixed cost of starting each program.

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/fixtures.rs"]
mod fixtures;

use std::time::Instant;

use lexsearch::ingest::ocr::{OcrEngine, OcrOptions, ocr_pages};

fn words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Word-level edit distance (substitutions, insertions, deletions).
fn edits(a: &[String], b: &[String]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn main() {
    let n_pages: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(8);
    let Some(engine) = OcrEngine::detect(lexsearch::ingest::ocr::DEFAULT_LANG) else {
        eprintln!("tesseract or pdftoppm not installed");
        std::process::exit(2);
    };
    // Legal prose, wrapped to the fixture's line width, 48 lines a page.
    let mut text = String::new();
    let mut names: Vec<_> = std::fs::read_dir("assets/corpus")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    names.sort();
    for p in names {
        text.push_str(&std::fs::read_to_string(p).unwrap());
        text.push('\n');
    }
    let mut lines = Vec::new();
    for para in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut line = String::new();
        for w in para.split_whitespace() {
            // WinAnsi Helvetica: keep to ASCII so the reference is what was drawn.
            let w: String = w.chars().filter(char::is_ascii).collect();
            if line.len() + w.len() + 1 > 80 {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&w);
        }
        lines.push(line);
    }
    let pages: Vec<Vec<String>> = lines
        .chunks(48)
        .take(n_pages)
        .map(<[String]>::to_vec)
        .collect();
    let scan = fixtures::scanned_pdf(&pages).unwrap();
    let numbers: Vec<usize> = (1..=pages.len()).collect();

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut counts = vec![1, 2, cores];
    counts.dedup();
    for threads in counts {
        let opts = OcrOptions {
            engine: Some(engine.clone()),
            threads,
            ..OcrOptions::default()
        };
        let t = Instant::now();
        let got = ocr_pages(&engine, &opts, &scan, &numbers);
        let secs = t.elapsed().as_secs_f64();
        let (mut total, mut wrong) = (0, 0);
        for (page, res) in pages.iter().zip(&got) {
            let reference = words(&page.join("\n"));
            let read = words(res.as_ref().unwrap());
            total += reference.len();
            wrong += edits(&reference, &read);
        }
        println!(
            "threads {threads}: {} pages in {secs:.1} s = {:.2} pages/s; word accuracy {:.2} % ({wrong} word edits / {total} words)",
            pages.len(),
            pages.len() as f64 / secs,
            100.0 * (1.0 - wrong as f64 / total as f64)
        );
    }
    // Fixed cost per page of running programs instead of linking the library.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("doc.pdf");
    std::fs::write(&f, &scan).unwrap();
    let t = Instant::now();
    let img = engine
        .rasterise(&f, 1, dir.path(), std::time::Duration::from_secs(60))
        .unwrap();
    println!(
        "pdftoppm, one page at 300 dpi: {:.3} s",
        t.elapsed().as_secs_f64()
    );
    let tiny = fixtures::image_pdf(&[(32, 32, vec![255; 32 * 32])]);
    let g = dir.path().join("tiny.pdf");
    std::fs::write(&g, tiny).unwrap();
    let small = engine
        .rasterise(&g, 1, dir.path(), std::time::Duration::from_secs(60))
        .unwrap();
    let png = dir.path().join("blank.png");
    std::fs::write(&png, &small).unwrap();
    let t = Instant::now();
    for _ in 0..5 {
        engine
            .recognise(&png, std::time::Duration::from_secs(60))
            .unwrap();
    }
    println!(
        "tesseract start-up (blank page, language model load): {:.3} s per call; page image {} KB",
        t.elapsed().as_secs_f64() / 5.0,
        img.len() / 1024
    );
}
