// Per-image kernels are compiled twice on x86-64 with GCC: for AVX2/FMA
// (x86-64-v3) and for the baseline, and the loader picks the one the CPU
// runs (an ifunc), so one binary is both portable and fast.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define INVKIT_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
// Hand-written AVX2 kernels, chosen at run time when the CPU has AVX2 and FMA.
#define INVKIT_HAVE_AVX2_KERNEL 1
#else
#define INVKIT_HAVE_AVX2_KERNEL 0
#define INVKIT_KERNEL
#endif
#define INVKIT_INLINE inline __attribute__((always_inline))
