//! With the `cuda` feature: compiles lexsearch's own CUDA kernels (`src/embed/kernels.cu`) to
//! PTX with nvcc, for `src/embed/cuda.rs` to load. Without it: nothing.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=src/embed/kernels.cu");
    println!("cargo::rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo::rerun-if-env-changed=CUDA_HOME");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("lexsearch_kernels.ptx");
    // The same compute capability as candle's kernels (CUDA_COMPUTE_CAP, e.g. 90 for H100/H200).
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "80".to_string());
    let nvcc = std::env::var_os("CUDA_HOME")
        .map(|home| PathBuf::from(home).join("bin").join("nvcc"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nvcc"));
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", "-std=c++17"])
        .arg(format!("--gpu-architecture=compute_{cap}"))
        .arg("-o")
        .arg(&out)
        .arg("src/embed/kernels.cu")
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "{} failed ({s}) compiling src/embed/kernels.cu",
            nvcc.display()
        ),
        Err(e) => panic!(
            "cannot run {} ({e}): the cuda feature needs a CUDA toolkit; \
             `eval \"$(scripts/fetch-cuda --env)\"` installs one from PyPI",
            nvcc.display()
        ),
    }
}
