// The table of operations a spec may name: arity, argument checks, the
// parameter columns each one records, and the presets.
#pragma once
#include <string>
#include <vector>

namespace invkit::transforms {

enum class OpKind { Identity, Geometric, Pixel, Morphology, Elastic };

struct OpInfo {
  std::string name;
  OpKind kind;
  std::vector<std::string> args;    // argument names, in order (the arity)
  std::vector<std::string> params;  // the columns it records per image
  std::string preset;               // the spec a bare name stands for ("" = none)
  std::string about;                // one line for docs and errors
};

// The operation called `name`, or null.
const OpInfo* find_op(const std::string& name);
// Every operation, in documentation order.
const std::vector<OpInfo>& all_ops();
// Comma-separated names, for "unknown operation" messages.
std::string op_names();
// Empty if `args` suit `op`, else what is wrong with them.
std::string check_args(const OpInfo& op, const std::vector<double>& args);

}  // namespace invkit::transforms
