// The transform-spec grammar (docs/augment.md):
//
//   choice := alt ('|' alt)*          one alternative per image, by weight
//   alt    := [weight ':'] seq        weights > 0; all alternatives or none
//   seq    := term ('+' term)*        A+B applies A, then B
//   term   := '(' choice ')' | op
//   op     := name | name '(' [arg (',' arg)*] ')'   arg := number | key '=' word
//
// A bare name stands for its preset (rotate = rotate(-180,180)).
#pragma once
#include <string>
#include <vector>

namespace invkit::transforms {

struct SpecNode {
  enum class Kind { Op, Seq, Choice };
  Kind kind = Kind::Op;
  std::string name;               // Op: the operation
  std::vector<double> args;       // Op: its numbers
  std::string interp;             // Op: "nearest", "bilinear", "bicubic" or "" (default)
  std::vector<SpecNode> children; // Seq: in order of application; Choice: the alternatives
  std::vector<double> weights;    // Choice: one per child
  bool weighted = false;          // Choice: weights were written
  size_t begin = 0, end = 0;      // where it was written in the spec (for messages)
};

// Parses and checks a spec (names, arity, argument ranges, weights), with
// presets expanded. A bad spec throws UsageError pointing at the bad part.
SpecNode parse_spec(const std::string& spec);

// The canonical text of a parsed spec (parses back to the same tree).
std::string to_string(const SpecNode& node);

// Shortest text that reads back as the same double.
std::string format_number(double v);

}  // namespace invkit::transforms
