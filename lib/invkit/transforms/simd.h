// Per-image kernels are compiled twice on x86-64 with GCC: for AVX2/FMA
// (x86-64-v3) and for the baseline, and the loader picks the one the CPU
// runs (an ifunc), so one binary is both portable and fast.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define INVKIT_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define INVKIT_KERNEL
#endif
#define INVKIT_INLINE inline __attribute__((always_inline))
