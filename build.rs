//! With the `cuda` feature: compiles lexsearch's own CUDA kernels (`src/embed/kernels.cu`) to
//! PTX with nvcc, for `src/embed/cuda.rs` to load. Without it: nothing.

#[cfg(feature = "cuda")]
use std::path::PathBuf;
#[cfg(feature = "cuda")]
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=src/embed/kernels.cu");
    println!("cargo::rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo::rerun-if-env-changed=CUDA_HOME");
    println!("cargo::rerun-if-env-changed=NVCC");
    #[cfg(feature = "cuda")]
    compile_kernels();
}

#[cfg(feature = "cuda")]
fn compile_kernels() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("lexsearch_kernels.ptx");
    // The compute capability candle-kernels builds for, found the same way (cudaforge:
    // CUDA_COMPUTE_CAP, e.g. 90 for H100/H200, else nvidia-smi); 80, the oldest GPU lexsearch
    // supports, when neither answers (PTX for 8.0 also runs on later GPUs).
    let cap = cudaforge::detect_compute_cap().map_or(80, |arch| arch.base());
    // The nvcc candle-kernels uses: $NVCC, PATH, $CUDA_HOME/bin, then /usr/local/cuda and the
    // like.
    let nvcc = cudaforge::CudaToolkit::detect().map_or_else(
        |e| {
            panic!(
                "no CUDA compiler for src/embed/kernels.cu ({e}): the cuda feature needs a CUDA \
                 toolkit; `eval \"$(scripts/fetch-cuda --env)\"` installs one from PyPI"
            )
        },
        |toolkit| toolkit.nvcc_path,
    );
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
