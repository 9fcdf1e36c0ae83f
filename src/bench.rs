//! Measurements for `lexsearch bench`: encoder throughput against the CPU's peak, query
//! latency, and vector-graph recall against exact search. Results are reported, never
//! asserted: timings on shared machines are noisy.

use std::time::Duration;

use serde::Serialize;

use crate::embed::ModelInfo;

mod scale;

pub use scale::{Grown, grow_index};

/// Floating-point operations (multiply and add counted apart) of one BERT forward pass over
/// `tokens` tokens: per layer, the Q, K, V and output projections (`8·L·H²`), the feed-forward
/// network (`4·L·H·I`) and the attention products (`4·L²·H`).
pub fn bert_flops(info: &ModelInfo, intermediate: usize, tokens: usize) -> f64 {
    let (l, h, i) = (tokens as f64, info.dim as f64, intermediate as f64);
    info.layers as f64 * (8.0 * l * h * h + 4.0 * l * h * i + 4.0 * l * l * h)
}

/// The CPU as far as a peak estimate needs it.
#[derive(Debug, Clone, Serialize)]
pub struct CpuInfo {
    /// Model name from /proc/cpuinfo.
    pub model: String,
    /// Logical CPUs available to this process.
    pub threads: usize,
    /// Clock in MHz as the kernel reports it (current, not turbo).
    pub mhz: f64,
    /// Single-precision FLOPs per cycle per core assumed for the peak.
    pub flops_per_cycle: f64,
    /// How `flops_per_cycle` was chosen.
    pub basis: String,
    /// Estimated fp32 peak in GFLOP/s: threads × clock × FLOPs per cycle.
    pub peak_gflops: f64,
    /// The instruction set of the f32 matrix products (gemm's kernels): `avx512` or `avx2`
    /// (or `sse`, `portable`).
    pub f32_isa: String,
    /// The instruction set of the int8 products (`--precision int8`): `avx512-vnni`, `avx2`
    /// or `portable`.
    pub int8_isa: String,
    /// Estimated int8 peak in GOP/s (multiply and add counted apart): the fp32 peak at the
    /// int8 path's vector width (256 bits for `avx-vnni` and `avx2`) times the int8
    /// multiply-adds one f32 FMA lane's slot does (4 for `vpdpbusd`, 2 for `vpmaddwd`, 1 for
    /// scalar code).
    pub int8_peak_gops: f64,
}

/// Reads /proc/cpuinfo (Linux); elsewhere reports what it can.
pub fn cpu_info() -> CpuInfo {
    let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split(':').nth(1))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let flags = field("flags");
    let amd = field("vendor_id").contains("AMD");
    let family: u32 = field("cpu family").parse().unwrap_or(0);
    let has = |f: &str| flags.split_whitespace().any(|x| x == f);
    // Two FMA units per core; an FMA is 2 FLOPs per lane. AMD's Zen 4 (family 25) runs 512-bit
    // instructions on 256-bit units, so its peak is that of AVX2; Zen 5 (family 26) has full
    // 512-bit units.
    // gemm's AVX-512 kernels exist only with the `avx512` feature.
    let avx512 = cfg!(feature = "avx512") && has("avx512f");
    let full_avx512 = avx512 && (!amd || family >= 26);
    let (flops_per_cycle, basis) = if full_avx512 {
        (64.0, "AVX-512: 2 FMA units x 16 fp32 lanes x 2")
    } else if has("avx512f") || (has("avx2") && has("fma")) {
        (32.0, "2 FMA units x 8 fp32 lanes (256-bit) x 2")
    } else {
        (16.0, "SSE: 2 x 4 lanes x 2")
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mhz: f64 = field("cpu MHz").parse().unwrap_or(0.0);
    let giga_cycles = threads as f64 * mhz / 1000.0;
    let peak_gflops = giga_cycles * flops_per_cycle;
    let int8 = crate::embed::kernel::int8_isa();
    // The 256-bit int8 paths (chosen with LEXSEARCH_INT8_ISA on an AVX-512 CPU) have half
    // the lanes of the 512-bit FMA units the f32 peak counts.
    let int8_flops_per_cycle = match int8 {
        crate::embed::kernel::Int8Isa::Avx512Vnni | crate::embed::kernel::Int8Isa::Amx => {
            flops_per_cycle
        }
        _ => flops_per_cycle.min(32.0),
    };
    let f32_isa = if avx512 {
        "avx512"
    } else if has("avx2") && has("fma") {
        "avx2"
    } else if has("sse2") {
        "sse"
    } else {
        "portable"
    };
    CpuInfo {
        model: field("model name"),
        threads,
        mhz,
        flops_per_cycle,
        basis: basis.to_string(),
        peak_gflops,
        f32_isa: f32_isa.into(),
        int8_isa: int8.name().into(),
        int8_peak_gops: giga_cycles * int8_flops_per_cycle * int8.macs_per_f32_fma_lane(),
    }
}

/// Latency percentiles of a set of timings, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Latency {
    /// Number of timings.
    pub n: usize,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Mean.
    pub mean_ms: f64,
}

impl Latency {
    /// Percentiles (nearest rank) of `samples`.
    pub fn of(samples: &[Duration]) -> Latency {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let pick = |p: f64| {
            if ms.is_empty() {
                return 0.0;
            }
            let rank = ((p / 100.0) * ms.len() as f64).ceil() as usize;
            ms[rank.clamp(1, ms.len()) - 1]
        };
        Latency {
            n: ms.len(),
            p50_ms: pick(50.0),
            p95_ms: pick(95.0),
            p99_ms: pick(99.0),
            mean_ms: ms.iter().sum::<f64>() / ms.len().max(1) as f64,
        }
    }
}

/// Exact top-`k` by dot product (vectors are normalised): the reference for recall.
pub fn exact_top_k(vectors: &[(u64, Vec<f32>)], query: &[f32], k: usize) -> Vec<u64> {
    exact_top(vectors, query, k).ids
}

/// The exact top `k` of a query ([`exact_top`]) and the least similarity among them.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactTop {
    /// The `k` nearest ids, most similar first (ties in no particular order).
    pub ids: Vec<u64>,
    /// The `k`-th similarity: any vector as similar is as right a hit as those listed (the
    /// copies of a text share one vector, so among equals the exact top `k` is one choice of
    /// many).
    pub floor: f32,
}

impl ExactTop {
    /// Whether a hit of chunk `id`, whose vector has similarity `similarity` to the query
    /// (exact, by [`dot`]), is one of the true top `k`: listed, or as similar as the last.
    pub fn holds(&self, id: u64, similarity: f32) -> bool {
        self.ids.contains(&id) || similarity >= self.floor - 1e-6
    }
}

/// Dot product (the similarity of normalised vectors).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Exact top-`k` by dot product, with the `k`-th similarity.
pub fn exact_top(vectors: &[(u64, Vec<f32>)], query: &[f32], k: usize) -> ExactTop {
    let mut scored: Vec<(f32, u64)> = vectors.iter().map(|(id, v)| (dot(v, query), *id)).collect();
    let k = k.min(scored.len());
    if k == 0 {
        return ExactTop {
            ids: Vec::new(),
            floor: f32::INFINITY,
        };
    }
    scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
    scored.truncate(k);
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    ExactTop {
        floor: scored[k - 1].0,
        ids: scored.into_iter().map(|(_, id)| id).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minilm_flops_match_the_published_count() {
        let info = ModelInfo {
            name: "m".into(),
            dir: "m".into(),
            fingerprint: "f".into(),
            architecture: "BertModel".into(),
            family: crate::embed::Family::Bert,
            dim: 384,
            pooling: crate::embed::Pooling::Mean,
            max_seq_length: 256,
            vocab_size: 30522,
            layers: 6,
        };
        // About 6.04 GFLOP for 256 tokens (docs/benchmarks.md).
        let g = bert_flops(&info, 1536, 256) / 1e9;
        assert!((g - 6.04).abs() < 0.01, "{g}");
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let l = Latency::of(&samples);
        assert_eq!((l.p50_ms, l.p95_ms, l.p99_ms), (50.0, 95.0, 99.0));
        assert_eq!(Latency::of(&[]).n, 0);
    }

    #[test]
    fn exact_search_ranks_by_dot_product() {
        let v = vec![
            (1, vec![1.0, 0.0]),
            (2, vec![0.0, 1.0]),
            (3, vec![0.7, 0.7]),
        ];
        assert_eq!(exact_top_k(&v, &[1.0, 0.1], 2), vec![1, 3]);
    }

    #[test]
    fn a_hit_as_similar_as_the_last_exact_one_counts_as_found() {
        // Chunks 3 and 4 are copies: either is a right second hit.
        let v = vec![
            (1, vec![1.0, 0.0]),
            (2, vec![0.0, 1.0]),
            (3, vec![0.6, 0.8]),
            (4, vec![0.6, 0.8]),
        ];
        let top = exact_top(&v, &[1.0, 0.0], 2);
        assert_eq!(top.ids.len(), 2);
        assert_eq!(top.ids[0], 1);
        assert!((top.floor - 0.6).abs() < 1e-6);
        assert!(top.holds(3, 0.6) && top.holds(4, 0.6) && top.holds(1, 1.0));
        assert!(!top.holds(2, 0.0));
    }
}
