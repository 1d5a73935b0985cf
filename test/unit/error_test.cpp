// Library messages name parameters, not flags: what() shows the plain name,
// render_params the caller's spelling (the tools': --per-class).
#include <gtest/gtest.h>

#include "invkit/error.h"

namespace {

TEST(Error, ParametersArePlainInWhatAndSpelledByTheCaller) {
  const invkit::UsageError e(invkit::param("per_class") + " 0: expected at least 1 (or give " + invkit::param("all") +
                             ")");
  EXPECT_STREQ(e.what(), "per_class 0: expected at least 1 (or give all)");
  auto flag = [](const std::string& name) { return "--" + name; };
  EXPECT_EQ(invkit::render_params(e.text(), flag), "--per_class 0: expected at least 1 (or give --all)");
  // A prefix built from text() keeps the marks.
  const invkit::Error wrapped("a.st: " + e.text());
  EXPECT_EQ(invkit::render_params(wrapped.text(), flag), "a.st: --per_class 0: expected at least 1 (or give --all)");
  // Text without marks, or with an unclosed one, is left as it is.
  EXPECT_EQ(invkit::render_params("a [b] {c}", flag), "a [b] {c}");
  EXPECT_EQ(invkit::render_params("x \x01open", flag), "x \x01open");
}

}  // namespace
