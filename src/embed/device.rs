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

#[cfg(feature = "cuda")]
fn cuda(ordinal: usize) -> Result<candle_core::Device, ModelError> {
    candle_core::Device::new_cuda(ordinal).map_err(|e| ModelError::Device {
        requested: format!("cuda:{ordinal}"),
        reason: format!("no usable NVIDIA GPU or driver: {e}"),
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

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_is_a_clear_error_not_a_cpu_fallback() {
        let err = DeviceSpec::Cuda(0).resolve().unwrap_err().to_string();
        assert!(err.contains("--features cuda"), "{err}");
        assert!(DeviceSpec::Auto.resolve().unwrap().is_cpu());
    }
}
