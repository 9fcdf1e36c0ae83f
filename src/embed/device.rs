//! Choosing where the encoder runs.

use std::fmt;
use std::str::FromStr;

use super::ModelError;

/// Where to run the encoder, as the user asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSpec {
    /// The CPU (the default).
    #[default]
    Cpu,
    /// The NVIDIA GPU with this ordinal (needs the `cuda` feature).
    Cuda(usize),
    /// A GPU when this build and machine have one, else the CPU.
    Auto,
}

impl FromStr for DeviceSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cpu" => Ok(DeviceSpec::Cpu),
            "auto" => Ok(DeviceSpec::Auto),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceSpec::Cuda)
                .ok_or_else(|| format!("unknown device {s:?}: use cpu, cuda, cuda:N or auto")),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
            DeviceSpec::Auto => f.write_str("auto"),
        }
    }
}

impl DeviceSpec {
    /// The candle device for this choice. Asking for CUDA where it cannot work is an error
    /// that names the cause: there is never a silent fallback to the CPU.
    pub fn resolve(self) -> Result<candle_core::Device, ModelError> {
        match self {
            DeviceSpec::Cpu => Ok(candle_core::Device::Cpu),
            DeviceSpec::Cuda(n) => cuda(n),
            DeviceSpec::Auto => Ok(cuda(0).unwrap_or(candle_core::Device::Cpu)),
        }
    }
}

/// Waits until the weights just loaded on `device` are there, before any other thread reads
/// them. candle's CUDA device queues work on CUDA's per-thread default stream, which orders
/// nothing against another thread's: the weights' uploads and casts, queued on the loading
/// thread, could still be running when the thread that encodes (the index's encoder thread, an
/// MCP call) starts reading them. Nothing to wait for on the CPU.
pub(super) fn weights_ready(device: &candle_core::Device) -> Result<(), ModelError> {
    device.synchronize().map_err(|e| {
        ModelError::Inference(format!(
            "the GPU did not finish loading the weights ({e}); `nvidia-smi` shows its state, \
             and --device cpu runs without it"
        ))
    })
}

/// A short name for where a model runs: `cpu`, `cuda` or `metal`.
pub fn device_name(device: &candle_core::Device) -> &'static str {
    match device {
        candle_core::Device::Cpu => "cpu",
        candle_core::Device::Cuda(_) => "cuda",
        candle_core::Device::Metal(_) => "metal",
    }
}

/// The number format the encoder computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// f32 on the CPU; f16 on a GPU.
    #[default]
    Auto,
    /// 32-bit floats: the reference, what the model was trained and exported in.
    F32,
    /// 16-bit floats with a 10-bit mantissa (GPU tensor cores).
    F16,
    /// bfloat16: f32's range with an 8-bit mantissa (GPU tensor cores).
    Bf16,
    /// 8-bit integer matrix products on the CPU (BERT-family models): weights quantized once
    /// at load with one scale per output channel, activations per token; everything else
    /// (attention, normalisation, pooling) in f32. 2.1-2.9x the f32 speed with AVX-512 VNNI
    /// or AVX-VNNI, about 1.5x with AVX2 alone (docs/benchmarks.md), for a small quality cost
    /// (docs/quality.md).
    Int8,
}

impl FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Precision::Auto),
            "f32" => Ok(Precision::F32),
            "f16" => Ok(Precision::F16),
            "bf16" => Ok(Precision::Bf16),
            "int8" => Ok(Precision::Int8),
            _ => Err(format!(
                "unknown precision {s:?}: use auto, f32, f16, bf16 or int8"
            )),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::Auto => "auto",
            Precision::F32 => "f32",
            Precision::F16 => "f16",
            Precision::Bf16 => "bf16",
            Precision::Int8 => "int8",
        })
    }
}

impl Precision {
    /// The precision to search an index with: `Auto` becomes `Int8` for an index whose
    /// vectors are int8 (its model fingerprint says so), as the index's model is its own
    /// unless another is asked for; any explicit choice is kept (a mismatch is then refused
    /// by the index, naming both).
    pub fn for_index(self, fingerprint: &str) -> Precision {
        if self == Precision::Auto && super::split_fingerprint(fingerprint).0.is_some() {
            Precision::Int8
        } else {
            self
        }
    }

    /// The candle dtype for this choice on `device`. `Auto` keeps the CPU exact (f32: half
    /// precision is slower there) and uses f16 on a GPU: on all-MiniLM-L6-v2 its vectors
    /// keep cosine >= 0.99999 to f32, against 0.998 for bf16 (docs/gpu.md).
    pub fn dtype(self, device: &candle_core::Device) -> candle_core::DType {
        use candle_core::DType;
        match self {
            Precision::Auto if device.is_cpu() => DType::F32,
            Precision::Auto | Precision::F16 => DType::F16,
            Precision::F32 | Precision::Int8 => DType::F32,
            Precision::Bf16 => DType::BF16,
        }
    }

    /// Refuses a precision the device has no path for: int8 runs on the CPU only.
    pub fn check(self, device: &candle_core::Device) -> Result<(), ModelError> {
        if self == Precision::Int8 && !device.is_cpu() {
            return Err(int8_off_cpu(device_name(device)));
        }
        Ok(())
    }
}

/// The refusal of `--precision int8` on a GPU.
pub(super) fn int8_off_cpu(device: &str) -> ModelError {
    ModelError::Precision {
        precision: "int8".into(),
        reason: format!(
            "int8 products run on the CPU only, and this model runs on {device}; on a GPU use \
             --precision f16 or bf16 (tensor cores), or run int8 with --device cpu"
        ),
    }
}

#[cfg(feature = "cuda")]
fn cuda(ordinal: usize) -> Result<candle_core::Device, ModelError> {
    candle_core::Device::new_cuda(ordinal).map_err(|e| {
        // candle appends a backtrace when RUST_BACKTRACE is set: keep the cause only.
        let cause = e.to_string();
        let cause = cause.lines().next().unwrap_or_default();
        ModelError::Device {
            requested: format!("cuda:{ordinal}"),
            reason: format!(
                "no usable NVIDIA GPU or driver ({cause}); check that `nvidia-smi` lists the \
                 GPU and that its driver supports CUDA 13 (version 580 or later), or use \
                 --device cpu"
            ),
        }
    })
}

#[cfg(not(feature = "cuda"))]
fn cuda(ordinal: usize) -> Result<candle_core::Device, ModelError> {
    Err(ModelError::Device {
        requested: format!("cuda:{ordinal}"),
        reason: "this lexsearch was built without CUDA support; rebuild it with \
                 `cargo build --release --features cuda`"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse_and_print() {
        for s in ["cpu", "cuda:1", "auto"] {
            assert_eq!(s.parse::<DeviceSpec>().unwrap().to_string(), s);
        }
        assert_eq!("cuda".parse::<DeviceSpec>(), Ok(DeviceSpec::Cuda(0)));
        assert!("gpu".parse::<DeviceSpec>().is_err());
    }

    #[test]
    fn precision_auto_is_exact_on_the_cpu() {
        use candle_core::{DType, Device};
        for s in ["auto", "f32", "f16", "bf16", "int8"] {
            assert_eq!(s.parse::<Precision>().unwrap().to_string(), s);
        }
        assert!("fp8".parse::<Precision>().is_err());
        assert_eq!(Precision::Auto.dtype(&Device::Cpu), DType::F32);
        assert_eq!(Precision::F16.dtype(&Device::Cpu), DType::F16);
        assert_eq!(Precision::Bf16.dtype(&Device::Cpu), DType::BF16);
        assert_eq!(Precision::Int8.dtype(&Device::Cpu), DType::F32);
        assert!(Precision::Int8.check(&Device::Cpu).is_ok());
    }

    #[test]
    fn int8_off_the_cpu_is_refused_naming_the_gpu_precisions() {
        let err = int8_off_cpu("cuda").to_string();
        assert!(err.contains("int8") && err.contains("f16 or bf16"), "{err}");
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_is_a_clear_error_not_a_cpu_fallback() {
        let err = DeviceSpec::Cuda(0).resolve().unwrap_err().to_string();
        assert!(err.contains("--features cuda"), "{err}");
        assert!(DeviceSpec::Auto.resolve().unwrap().is_cpu());
    }

    #[test]
    fn int8_fingerprints_split_into_their_scheme_and_the_models_own() {
        use super::super::split_fingerprint;
        assert_eq!(split_fingerprint("abc"), (None, "abc"));
        assert_eq!(split_fingerprint("int8-abc"), (Some("sym8"), "abc"));
        assert_eq!(split_fingerprint("int8-abc-asym8"), (Some("asym8"), "abc"));
    }

    #[test]
    fn an_int8_index_is_searched_in_int8_unless_told_otherwise() {
        let int8 = format!("{}abc", super::super::INT8_FINGERPRINT_PREFIX);
        assert_eq!(Precision::Auto.for_index(&int8), Precision::Int8);
        let schemed = format!("{int8}-{}", super::super::INT8_SCHEME);
        assert_eq!(Precision::Auto.for_index(&schemed), Precision::Int8);
        assert_eq!(Precision::Auto.for_index("abc"), Precision::Auto);
        assert_eq!(Precision::F32.for_index(&int8), Precision::F32);
    }
}
