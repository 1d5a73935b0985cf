// Option values with a small syntax that several tools share.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

namespace invkit::cli {

// --split "NAME=FRACTION" (e.g. "val=0.2"), fraction in [0, 1]; UsageError
// naming the option otherwise.
std::pair<std::string, double> parse_split_spec(const std::string& spec);

// --shard "i/n": the i-th of n parts, counted from 0 (0 <= i < n), as Slurm
// array indices and torch.distributed ranks are; UsageError naming the option
// otherwise. data/sampling.h shard_range gives the part's rows.
std::pair<int64_t, int64_t> parse_shard_spec(const std::string& spec);

}  // namespace invkit::cli
