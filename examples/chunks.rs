//! Prints the chunks of a file as the default model's tokenizer cuts them (a debugging aid):
#![allow(clippy::unwrap_used)]
//! `cargo run --example chunks -- FILE [MODEL_DIR]`.
use lexsearch::Embedder;
use lexsearch::ingest::chunk::{ChunkerConfig, TokenSpans, chunk_text};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: chunks FILE [MODEL_DIR]"))?;
    let model = args
        .next()
        .map_or_else(lexsearch::cli::default_model_dir, Into::into);
    let embedder = Embedder::load(&model, lexsearch::DeviceSpec::Cpu)?;
    let text = std::fs::read_to_string(path)?;
    for c in chunk_text(&text, &embedder, &ChunkerConfig::default()) {
        let t = &text[c.range.clone()];
        let tokens = embedder.token_spans(t).len();
        println!(
            "{:?} line {} {tokens} tokens [{}]\n   {:.100}",
            c.range,
            c.line,
            c.breadcrumb.join(" > "),
            t.replace('\n', " | ")
        );
    }
    Ok(())
}
