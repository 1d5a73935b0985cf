#include "invkit/transforms/spec.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "invkit/error.h"
#include "invkit/transforms/ops.h"

namespace invkit::transforms {

std::string format_number(double v) {
  char buf[40];
  if (std::floor(v) == v && std::abs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

namespace {

class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}

  SpecNode parse() {
    skip();
    if (pos_ == s_.size()) fail(0, s_.size(), "the spec is empty");
    SpecNode n = choice();
    skip();
    if (pos_ < s_.size()) fail(pos_, pos_ + 1, std::string("unexpected '") + s_[pos_] + "'");
    return n;
  }

 private:
  [[noreturn]] void fail(size_t b, size_t e, const std::string& what) const {
    if (e <= b) e = b + 1;
    std::string marked = s_.substr(0, b) + ">>>" + (b < s_.size() ? s_.substr(b, e - b) : std::string()) + "<<<" +
                         (e < s_.size() ? s_.substr(e) : std::string());
    throw UsageError("bad transform spec at column " + std::to_string(b + 1) + ": " + what + ": " + marked);
  }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool peek(char c) {
    skip();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  void expect(char c, const std::string& context) {
    if (!peek(c)) {
      std::string got = pos_ < s_.size() ? std::string("'") + s_[pos_] + "'" : "the end";
      fail(pos_, pos_ + 1, std::string("expected '") + c + "' " + context + ", found " + got);
    }
    ++pos_;
  }
  bool at_number() {
    skip();
    if (pos_ >= s_.size()) return false;
    char c = s_[pos_];
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+';
  }
  double number() {
    skip();
    size_t b = pos_;
    if (pos_ < s_.size() && (s_[pos_] == '-' || s_[pos_] == '+')) ++pos_;
    while (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.')) ++pos_;
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '-' || s_[pos_] == '+')) ++pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    std::string t = s_.substr(b, pos_ - b);
    char* end = nullptr;
    double v = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size()) fail(b, pos_, "'" + t + "' is not a number");
    return v;
  }
  std::string word() {
    skip();
    size_t b = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '-' || s_[pos_] == '_'))
      ++pos_;
    return s_.substr(b, pos_ - b);
  }

  SpecNode choice() {
    skip();
    size_t b = pos_;
    std::vector<SpecNode> alts;
    std::vector<double> weights;
    std::vector<bool> has;
    for (;;) {
      skip();
      size_t wb = pos_;
      double w = 1;
      bool has_weight = false;
      if (at_number()) {
        w = number();
        has_weight = true;
        expect(':', "after the weight " + format_number(w));
        if (!(w > 0)) fail(wb, pos_ - 1, "weight " + format_number(w) + " must be > 0");
      }
      weights.push_back(w);
      has.push_back(has_weight);
      alts.push_back(seq());
      if (!peek('|')) break;
      ++pos_;
    }
    size_t n_weighted = 0;
    for (bool h : has) n_weighted += h;
    if (n_weighted != 0 && n_weighted != alts.size())
      for (size_t i = 0; i < alts.size(); ++i)
        if (!has[i]) fail(alts[i].begin, alts[i].end, "give every alternative of '|' a weight, or none");
    if (alts.size() == 1) return alts[0];
    SpecNode n;
    n.kind = SpecNode::Kind::Choice;
    n.children = std::move(alts);
    n.weights = weights;
    n.weighted = n_weighted > 0;
    n.begin = b;
    n.end = pos_;
    return n;
  }

  SpecNode seq() {
    skip();
    size_t b = pos_;
    std::vector<SpecNode> terms;
    for (;;) {
      SpecNode t = term();
      if (t.kind == SpecNode::Kind::Seq)  // (A+B)+C is A+B+C: keeps geometric runs adjacent
        for (auto& c : t.children) terms.push_back(std::move(c));
      else
        terms.push_back(std::move(t));
      if (!peek('+')) break;
      ++pos_;
    }
    if (terms.size() == 1) return terms[0];
    SpecNode n;
    n.kind = SpecNode::Kind::Seq;
    n.children = std::move(terms);
    n.begin = b;
    n.end = pos_;
    return n;
  }

  SpecNode term() {
    if (peek('(')) {
      // The parser recurses once per '(': a spec of a million of them would
      // overflow the stack (found while fuzzing, with an input beyond its 4 KB).
      if (++depth_ > kMaxDepth) fail(pos_, pos_ + 1, "parentheses nested more than " + std::to_string(kMaxDepth) + " deep");
      ++pos_;
      SpecNode n = choice();
      expect(')', "to close '('");
      --depth_;
      return n;
    }
    return op();
  }

  SpecNode op() {
    skip();
    size_t b = pos_;
    if (pos_ >= s_.size()) fail(b, b + 1, "expected an operation, found the end");
    if (!std::isalpha(static_cast<unsigned char>(s_[pos_])))
      fail(b, b + 1, std::string("expected an operation name, found '") + s_[pos_] + "'");
    std::string name = word();
    const Op* info = find_op(name);
    if (!info) fail(b, pos_, "unknown operation \"" + name + "\" (known: " + op_names() + ")");
    SpecNode n;
    n.name = name;
    n.begin = b;
    if (!peek('(')) {
      n.end = pos_;
      if (info->preset.empty())
        fail(b, pos_, name + " needs " + std::to_string(info->args.size()) + " arguments (" + arg_list(*info) + ")");
      if (info->preset == name) return n;  // identity
      SpecNode p = Parser(info->preset).parse();
      relocate(p, b, pos_);
      return p;
    }
    // An op without arguments is a preset, unless it stands for itself (identity).
    if (info->args.empty() && info->preset != name) fail(b, pos_, name + " is a preset and takes no arguments");
    ++pos_;  // '('
    size_t args_at = pos_;
    if (!peek(')')) {
      for (;;) {
        skip();
        size_t ab = pos_;
        if (pos_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[pos_]))) {
          std::string key = word();
          expect('=', "after the keyword " + key);
          skip();
          size_t vb = pos_;
          std::string value = word();
          if (key != "interp") fail(ab, pos_, "unknown keyword \"" + key + "\" (known: interp)");
          if (!std::holds_alternative<Geometric>(info->run))
            fail(ab, pos_, name + " takes no interp= (only geometric operations do)");
          if (value != "nearest" && value != "bilinear" && value != "bicubic")
            fail(vb, pos_, "interp must be nearest, bilinear or bicubic, not \"" + value + "\"");
          n.interp = value;
        } else {
          if (!n.interp.empty()) fail(ab, ab + 1, "positional arguments must come before interp=");
          n.args.push_back(number());
        }
        if (!peek(',')) break;
        ++pos_;
      }
    }
    expect(')', "to close the arguments of " + name);
    n.end = pos_;
    if (n.args.size() != info->args.size())
      fail(args_at, pos_ - 1,
           name + " takes " + std::to_string(info->args.size()) + " arguments (" + arg_list(*info) + "), got " +
               std::to_string(n.args.size()));
    std::string bad = check_args(*info, n.args);
    if (!bad.empty()) fail(args_at, pos_ - 1, name + ": " + bad);
    return n;
  }

  static std::string arg_list(const Op& info) {
    std::string s;
    for (const auto& a : info.args) s += (s.empty() ? "" : ",") + a;
    return s;
  }
  static void relocate(SpecNode& n, size_t b, size_t e) {
    n.begin = b;
    n.end = e;
    for (auto& c : n.children) relocate(c, b, e);
  }

  static constexpr int kMaxDepth = 100;
  const std::string& s_;
  size_t pos_ = 0;
  int depth_ = 0;  // parentheses open
};

bool needs_parens(const SpecNode& child, SpecNode::Kind parent) {
  return child.kind == SpecNode::Kind::Choice;  // '+' binds tighter than '|'
}

}  // namespace

SpecNode parse_spec(const std::string& spec) { return Parser(spec).parse(); }

std::string to_string(const SpecNode& n) {
  switch (n.kind) {
    case SpecNode::Kind::Op: {
      if (n.args.empty() && n.interp.empty()) return n.name;
      std::string s = n.name + "(";
      for (size_t i = 0; i < n.args.size(); ++i) s += (i ? "," : "") + format_number(n.args[i]);
      if (!n.interp.empty()) s += std::string(n.args.empty() ? "" : ",") + "interp=" + n.interp;
      return s + ")";
    }
    case SpecNode::Kind::Seq: {
      std::string s;
      for (size_t i = 0; i < n.children.size(); ++i) {
        std::string c = to_string(n.children[i]);
        if (needs_parens(n.children[i], n.kind)) c = "(" + c + ")";
        s += (i ? "+" : "") + c;
      }
      return s;
    }
    case SpecNode::Kind::Choice: {
      std::string s;
      for (size_t i = 0; i < n.children.size(); ++i) {
        std::string c = to_string(n.children[i]);
        if (needs_parens(n.children[i], n.kind)) c = "(" + c + ")";
        if (n.weighted) c = format_number(n.weights[i]) + ":" + c;
        s += (i ? "|" : "") + c;
      }
      return s;
    }
  }
  return "";
}

}  // namespace invkit::transforms
