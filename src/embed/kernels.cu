// lexsearch's own CUDA kernels for the BERT encoder (src/embed/cuda.rs), compiled to PTX by
// build.rs when the `cuda` feature is on. Each one replaces candle operations that measured
// slow on an H200 (docs/gpu.md): candle adds a broadcast bias or mask with per-element index
// arithmetic over every dimension, which took two thirds of the encoder's GPU time.
//
// Every kernel computes in f32 and rounds once to the tensor's type. Names end in the candle
// dtype (`_f32`, `_f16`, `_bf16`), as candle's own kernels do.
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>

__device__ __forceinline__ float to_f(float x) { return x; }
__device__ __forceinline__ float to_f(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T from_f(float x);
template <> __device__ __forceinline__ float from_f<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_f<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

// GELU with the exact error function, as BERT's "gelu" (Hugging Face's GELUActivation).
__device__ __forceinline__ float gelu_erf(float v) { return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)); }

// Rows of `cols` values: out = x + bias (MODE 0), gelu(x + bias) (MODE 1) or x + bias +
// residual (MODE 2). Blocks take rows, threads take columns: no division per element.
template <typename T, int MODE>
__device__ void bias_rows(const T *x, const T *bias, const T *residual, T *out, uint32_t rows,
                          uint32_t cols) {
  for (uint32_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const uint64_t base = (uint64_t)row * cols;
    for (uint32_t c = threadIdx.x; c < cols; c += blockDim.x) {
      float v = to_f(x[base + c]) + to_f(bias[c]);
      if (MODE == 1) v = gelu_erf(v);
      if (MODE == 2) v += to_f(residual[base + c]);
      out[base + c] = from_f<T>(v);
    }
  }
}

// qkv (n, len, 3 * hidden), each token's query, key and value side by side, into one tensor
// (3, n, heads, len, head) of queries (times `scale`), keys and values, each head's rows
// contiguous for the batched products.
template <typename T>
__device__ void split_heads(const T *qkv, T *out, uint32_t n, uint32_t len, uint32_t heads,
                            uint32_t head, float scale) {
  const uint32_t hidden = heads * head;
  const uint32_t rows = n * len;
  for (uint32_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const uint32_t b = row / len, t = row % len;
    for (uint32_t c = threadIdx.x; c < 3 * hidden; c += blockDim.x) {
      const uint32_t which = c / hidden, within = c % hidden;
      const uint32_t h = within / head, e = within % head;
      const uint64_t to = ((((uint64_t)which * n + b) * heads + h) * len + t) * head + e;
      const T v = qkv[(uint64_t)row * 3 * hidden + c];
      out[to] = which == 0 ? from_f<T>(to_f(v) * scale) : v;
    }
  }
}

// Softmax of each row of scores (n, heads, len, cols) after adding the row's text's additive
// mask (n, cols): one warp per row, four rows per block.
template <typename T>
__device__ void masked_softmax(const T *scores, const T *mask, T *out, uint32_t rows,
                               uint32_t cols, uint32_t rows_per_text) {
  const uint32_t row = blockIdx.x * blockDim.y + threadIdx.y;
  if (row >= rows) return;
  const uint32_t lane = threadIdx.x;
  const T *s = scores + (uint64_t)row * cols;
  const T *m = mask + (uint64_t)(row / rows_per_text) * cols;
  T *o = out + (uint64_t)row * cols;
  float max = -INFINITY;
  for (uint32_t j = lane; j < cols; j += 32) max = fmaxf(max, to_f(s[j]) + to_f(m[j]));
  for (int k = 16; k > 0; k >>= 1) max = fmaxf(max, __shfl_xor_sync(0xffffffff, max, k));
  float sum = 0.0f;
  for (uint32_t j = lane; j < cols; j += 32) sum += __expf(to_f(s[j]) + to_f(m[j]) - max);
  for (int k = 16; k > 0; k >>= 1) sum += __shfl_xor_sync(0xffffffff, sum, k);
  const float inv = 1.0f / sum;
  for (uint32_t j = lane; j < cols; j += 32) o[j] = from_f<T>(__expf(to_f(s[j]) + to_f(m[j]) - max) * inv);
}

#define KERNELS(T, NAME)                                                                        \
  /* The bias kernels share one signature; only lx_bias_residual reads r. */                   \
  extern "C" __global__ void lx_bias_##NAME(const T *x, const T *b, const T *r, T *out,         \
                                            uint32_t rows, uint32_t cols) {                     \
    bias_rows<T, 0>(x, b, r, out, rows, cols);                                                  \
  }                                                                                             \
  extern "C" __global__ void lx_bias_gelu_##NAME(const T *x, const T *b, const T *r, T *out,    \
                                                 uint32_t rows, uint32_t cols) {                \
    bias_rows<T, 1>(x, b, r, out, rows, cols);                                                  \
  }                                                                                             \
  extern "C" __global__ void lx_bias_residual_##NAME(const T *x, const T *b, const T *r,        \
                                                     T *out, uint32_t rows, uint32_t cols) {    \
    bias_rows<T, 2>(x, b, r, out, rows, cols);                                                  \
  }                                                                                             \
  extern "C" __global__ void lx_split_heads_##NAME(const T *qkv, T *out, uint32_t n,            \
                                                   uint32_t len, uint32_t heads, uint32_t head, \
                                                   float scale) {                               \
    split_heads<T>(qkv, out, n, len, heads, head, scale);                                       \
  }                                                                                             \
  extern "C" __global__ void lx_masked_softmax_##NAME(const T *scores, const T *mask, T *out,   \
                                                      uint32_t rows, uint32_t cols,             \
                                                      uint32_t rows_per_text) {                 \
    masked_softmax<T>(scores, mask, out, rows, cols, rows_per_text);                            \
  }

KERNELS(float, f32)
KERNELS(__half, f16)
KERNELS(__nv_bfloat16, bf16)
