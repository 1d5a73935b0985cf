// report: a tree of experiment results (RUNS/seed-<S>/<T>/ekld.json and the
// checkpoints beside them) as one Markdown report with a table per
// transform, eKLD plots (SVG) and findings.
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "invkit/cli/tool.h"
#include "invkit/error.h"
#include "invkit/io/file.h"
#include "invkit/report/report.h"
#include "invkit/report/svg_plot.h"

namespace {

struct Options {
  std::string runs;
  std::string output = "-";
  std::string title = "invkit results";
  std::optional<int64_t> many, few;  // redraw the shot groups
  invkit::report::ReportOrder order;
};

// FILE.md -> FILE-<T>-ekld.svg (beside it).
std::string plot_path(const std::string& output, const std::string& transform) {
  std::string stem = output;
  if (stem.size() > 3 && stem.compare(stem.size() - 3, 3, ".md") == 0) stem.resize(stem.size() - 3);
  return stem + "-" + transform + "-ekld.svg";
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  invkit::cli::Tool tool(
      "report",
      "Gather experiment results (RUNS/seed-<S>/<T>/ekld.json from measure-ekld, with the measured checkpoints "
      "beside it) into a Markdown report: a table per transform (test accuracies, eKLD, Spearman, tail eKLD; "
      "mean ± std over seeds), eKLD plots and findings. With -o FILE.md, one SVG per transform beside it: "
      "FILE-<T>-ekld.svg.",
      "  report runs -o runs/report.md\n"
      "  report runs --title 'Fashion-MNIST-LT, 3 seeds' > report.md\n"
      "  report results/fmnist-lt --many 500 --few 100 -o report.md");
  auto& app = tool.app();
  app.add_option("runs", opt.runs, "the results folder: RUNS/seed-<S>/<T>/ekld.json")->required();
  app.add_option("-o,--output", opt.output, "Markdown FILE (plots beside it), or - for stdout (no plots)");
  app.add_option("--title", opt.title, "the report's title");
  app.add_option("--many", opt.many,
                 "redraw the shot groups from the per-class rows: many-shot classes have more training examples "
                 "than N (default 100 when only --few is given)");
  app.add_option("--few", opt.few,
                 "... and few-shot classes (the tail eKLD's) fewer than N (default 20 when only --many is given)");
  app.add_option("--transforms", opt.order.transforms,
                 "transforms (folder names) in report order, e.g. rot,bg,dil; the rest follow by name; a name "
                 "without results is ignored")
      ->delimiter(',');
  app.add_option("--methods", opt.order.methods,
                 "methods (checkpoint names) in report order, e.g. erm,drs,drs-git; the rest follow as measure-ekld "
                 "listed them; a name without results is ignored")
      ->delimiter(',');
  app.add_option("--oracle", opt.order.oracle, "the method trained with the true transform, compared with the best "
                                               "GIT method (X-git)");
  return tool.run(argc, argv, [&] {
    auto results = invkit::report::load_results(opt.runs, opt.order);
    if (opt.many || opt.few) {
      invkit::metrics::ShotThresholds t;
      t.many = opt.many.value_or(t.many);
      t.few = opt.few.value_or(t.few);
      invkit::cli::check_shot_groups(t.many, t.few);
      invkit::report::set_shot_groups(results, t);
    }
    invkit::report::ReportOptions ro;
    ro.title = opt.title;
    ro.generated_by = std::string("report (invkit ") + INVKIT_VERSION + ")";
    std::vector<std::pair<std::string, std::string>> plots;  // path, SVG
    if (opt.output != "-") {
      ro.plot_link = [&](const std::string& t) { return std::filesystem::path(plot_path(opt.output, t)).filename().string(); };
      for (const auto& t : results.transforms)
        plots.emplace_back(plot_path(opt.output, t.name), invkit::report::render_svg(invkit::report::ekld_plot(t)));
    }
    const std::string md = invkit::report::render_markdown(results, ro);
    if (opt.output == "-") {
      std::cout << md;
      return;
    }
    // Every file goes to FILE.tmp first; they are renamed into place only
    // once all of them are written, so a failure leaves none behind.
    std::vector<std::unique_ptr<invkit::io::AtomicWriter>> files;
    files.push_back(std::make_unique<invkit::io::AtomicWriter>(opt.output));
    files.back()->write(md.data(), md.size());
    for (const auto& [path, svg] : plots) {
      files.push_back(std::make_unique<invkit::io::AtomicWriter>(path));
      files.back()->write(svg.data(), svg.size());
    }
    for (auto it = files.rbegin(); it != files.rend(); ++it) (*it)->commit();  // the report last
  });
}
