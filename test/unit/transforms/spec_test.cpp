// The transform-spec grammar: canonical text, presets, and bad specs that
// point at the offending part.
#include <gtest/gtest.h>

#include "invkit/error.h"
#include "invkit/transforms/spec.h"
#include "invkit/transforms/transform.h"

namespace it = invkit::transforms;

namespace {

std::string canonical(const std::string& s) { return it::parse_transform(s)->spec(); }

// The UsageError message of a bad spec.
std::string error_of(const std::string& s) {
  try {
    it::parse_transform(s);
  } catch (const invkit::UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError for " << s;
  return "";
}

}  // namespace

TEST(TransformSpec, PresetsExpand) {
  EXPECT_EQ(canonical("rotate"), "rotate(-180,180)");
  EXPECT_EQ(canonical("background"), "background(0,100)");
  EXPECT_EQ(canonical("dilate-erode"), "0.6:dilate(2,4)|0.4:erode(1,2)");
  EXPECT_EQ(canonical("identity"), "identity");
  EXPECT_EQ(canonical("hflip"), "hflip(0.5)");
}

TEST(TransformSpec, CanonicalTextParsesBackToItself) {
  for (const char* s : {"rotate(-10, 10.5) + background(0,100)", "0.6:dilate(2,4)|0.4:erode(1,2)",
                        "(rotate(0,90,interp=nearest)|hflip(1))+scale(0.9,1.1)", "rotate(1e-3,2E1)",
                        "((identity))", "translate(0.1,0.2)+(invert(1)|noise(3)|blur(0,1))+elastic(30,4)"}) {
    std::string c = canonical(s);
    EXPECT_EQ(canonical(c), c) << s;
  }
  EXPECT_EQ(canonical("rotate(-10, 10.5) + background(0,100)"), "rotate(-10,10.5)+background(0,100)");
  EXPECT_EQ(canonical("(rotate(0,90,interp=nearest)|hflip(1))+scale(0.9,1.1)"),
            "(rotate(0,90,interp=nearest)|hflip(1))+scale(0.9,1.1)");
  EXPECT_EQ(canonical("rotate(1e-3,2E1)"), "rotate(0.001,20)");
}

TEST(TransformSpec, PlusBindsTighterThanBar) {
  auto t = it::parse_spec("rotate(0,1)+hflip(1)|vflip(1)");
  ASSERT_EQ(t.kind, it::SpecNode::Kind::Choice);
  EXPECT_EQ(t.children[0].kind, it::SpecNode::Kind::Seq);
  EXPECT_FALSE(t.weighted);
  auto u = it::parse_spec("(rotate(0,1)+hflip(1))+vflip(1)");
  ASSERT_EQ(u.kind, it::SpecNode::Kind::Seq);
  EXPECT_EQ(u.children.size(), 3u);  // flattened, so geometric runs stay adjacent
}

TEST(TransformSpec, BadSpecsPointAtTheOffendingPart) {
  struct Case {
    const char* spec;
    const char* message;
  };
  const Case cases[] = {
      {"rotat(1,2)", "column 1: unknown operation \"rotat\""},
      {"rotate(0,1)+rotat(1,2)", ">>>rotat<<<(1,2)"},
      {"rotate(1)", "rotate takes 2 arguments (lo,hi), got 1"},
      {"rotate(1,2,3)", "column 8: rotate takes 2 arguments"},
      {"rotate(10,-10)", "rotate: lo 10 > hi -10: rotate(>>>10,-10<<<)"},
      {"scale(2,1)", "lo 2 > hi 1"},
      {"background(50,50)", "the range [lo,hi) is empty"},
      {"0:rotate|1:identity", "column 1: weight 0 must be > 0"},
      {"0.5:rotate|-1:identity", "column 12: weight -1 must be > 0"},
      {"0.5:rotate|identity", "give every alternative of '|' a weight, or none: 0.5:rotate|>>>identity<<<"},
      {"dilate(0,2)", "dilate: k must be >= 1 (got kmin 0)"},
      {"erode(1.5,2)", "erode: k must be an integer"},
      {"translate", "translate needs 2 arguments (fx,fy)"},
      {"dilate-erode(1)", "dilate-erode is a preset and takes no arguments"},
      {"rotate(0,1,interp=cubic)", "interp must be nearest, bilinear or bicubic, not \"cubic\""},
      {"rotate(0,1,mode=x)", "unknown keyword \"mode\""},
      {"background(0,9,interp=nearest)", "background takes no interp="},
      {"rotate(0,1)+", "column 13: expected an operation, found the end"},
      {"(rotate(0,1)", "expected ')' to close '('"},
      {"rotate(0,1))", "column 12: unexpected ')'"},
      {"rotate(0,x1)", "expected '=' after the keyword x1"},
      {"rotate(0,1", "expected ')' to close the arguments of rotate"},
      {"rotate(1..2,3)", "'1..2' is not a number"},
      {"", "the spec is empty"},
      {"hflip(2)", "hflip: p must lie in [0, 1]"},
      {"rotate(1e999,1)", "arguments must be finite numbers"},
  };
  for (const auto& c : cases) {
    std::string e = error_of(c.spec);
    EXPECT_NE(e.find(c.message), std::string::npos) << c.spec << " gave: " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line: " << e;
  }
}

TEST(TransformSpec, ParenthesesNestedTooDeepAreAUsageErrorNotAStackOverflow) {
  // Found while fuzzing (by hand: the fuzzer's inputs stay under 4 KB): the
  // parser recursed once per '(' and 200000 of them overflowed the stack.
  auto nested = [](int levels) { return std::string(levels, '(') + "identity" + std::string(levels, ')'); };
  EXPECT_EQ(canonical(nested(100)), "identity");
  EXPECT_NE(error_of(nested(101)).find("column 101: parentheses nested more than 100 deep"), std::string::npos);
  EXPECT_NE(error_of(nested(200000)).find("parentheses nested more than 100 deep"), std::string::npos);
}
