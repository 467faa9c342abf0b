// FASTDML_HD marks per-element maths shared by the CPU and CUDA twins: it is
// __host__ __device__ under nvcc and nothing under a host compiler.
#pragma once
#if defined(__CUDACC__)
#define FASTDML_HD __host__ __device__ __forceinline__
#else
#define FASTDML_HD inline
#endif
