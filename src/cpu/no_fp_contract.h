// Included FIRST by the host files whose sums must be the same bits on every
// instruction-set path and compiler (cpu/bootstrap.cc, cpu/gaussian_draws.cc):
// no fused multiply-add contraction in the rest of the file. The CUDA twin gets
// the same with --fmad=false (CMakeLists.txt).
#pragma once
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
