#include "invkit/transforms/ops.h"

#include <cmath>

namespace invkit::transforms {

const std::vector<OpInfo>& all_ops() {
  static const std::vector<OpInfo> ops = {
      {"identity", OpKind::Identity, {}, {}, "identity", "returns the image unchanged"},
      {"rotate", OpKind::Geometric, {"lo", "hi"}, {"angle"}, "rotate(-180,180)",
       "rotation about the centre by an angle in degrees drawn from U(lo,hi); positive = counter-clockwise"},
      {"translate", OpKind::Geometric, {"fx", "fy"}, {"dx", "dy"}, "",
       "shift by U(-fx,fx)*width and U(-fy,fy)*height pixels"},
      {"scale", OpKind::Geometric, {"lo", "hi"}, {"factor"}, "", "zoom about the centre by U(lo,hi)"},
      {"aspect", OpKind::Geometric, {"lo", "hi"}, {"ratio"}, "",
       "stretch width/height by a log-uniform ratio r in [lo,hi], area kept (x*sqrt(r), y/sqrt(r))"},
      {"shear", OpKind::Geometric, {"lo", "hi"}, {"angle"}, "",
       "horizontal shear x += tan(a)*y by an angle a in degrees from U(lo,hi)"},
      {"crop-resize", OpKind::Geometric, {"smin", "smax"}, {"area", "cx", "cy"}, "",
       "crop a square-scaled window of area fraction U(smin,smax) at a uniform position, resize to full size"},
      {"hflip", OpKind::Geometric, {"p"}, {"flipped"}, "hflip(0.5)", "mirror left-right with probability p"},
      {"vflip", OpKind::Geometric, {"p"}, {"flipped"}, "vflip(0.5)", "mirror top-bottom with probability p"},
      {"background", OpKind::Pixel, {"lo", "hi"}, {"level"}, "background(0,100)",
       "pixels equal to 0 become one integer level drawn uniformly from [lo,hi) for the whole image"},
      {"brightness", OpKind::Pixel, {"lo", "hi"}, {"factor"}, "", "multiply by U(lo,hi)"},
      {"contrast", OpKind::Pixel, {"lo", "hi"}, {"factor"}, "",
       "blend with the image's mean by U(lo,hi): mean + f*(x - mean)"},
      {"gamma", OpKind::Pixel, {"lo", "hi"}, {"gamma"}, "", "255*(x/255)^g with g from U(lo,hi)"},
      {"noise", OpKind::Pixel, {"sigma"}, {}, "", "add Gaussian noise of standard deviation sigma (in levels 0-255)"},
      {"blur", OpKind::Pixel, {"smin", "smax"}, {"sigma"}, "",
       "Gaussian blur, sigma in pixels from U(smin,smax), radius ceil(3 sigma), edges replicated"},
      {"invert", OpKind::Pixel, {"p"}, {"inverted"}, "invert(0.5)", "255 - x with probability p"},
      {"dilate", OpKind::Morphology, {"kmin", "kmax"}, {"k"}, "",
       "grey dilation (max) with a k x k square, k uniform in {kmin..kmax}, OpenCV anchor k/2"},
      {"erode", OpKind::Morphology, {"kmin", "kmax"}, {"k"}, "",
       "grey erosion (min) with a k x k square, k uniform in {kmin..kmax}, OpenCV anchor k/2"},
      {"elastic", OpKind::Elastic, {"alpha", "sigma"}, {}, "",
       "elastic distortion: uniform(-1,1) displacement fields smoothed by a Gaussian of sigma pixels, times alpha"},
      {"dilate-erode", OpKind::Identity, {}, {}, "0.6:dilate(2,4)|0.4:erode(1,2)",
       "the paper's K49-DIL: dilate (k 2-4) with probability 0.6, else erode (k 1-2)"},
  };
  return ops;
}

const OpInfo* find_op(const std::string& name) {
  for (const auto& op : all_ops())
    if (op.name == name) return &op;
  return nullptr;
}

std::string op_names() {
  std::string s;
  for (const auto& op : all_ops()) s += (s.empty() ? "" : ", ") + op.name;
  return s;
}

namespace {
bool is_int(double v) { return std::floor(v) == v; }
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

std::string check_args(const OpInfo& op, const std::vector<double>& a) {
  for (double v : a)
    if (!std::isfinite(v)) return "arguments must be finite numbers";
  const std::string& n = op.name;
  auto range = [&](double lo, double hi) -> std::string {
    if (lo > hi) return "lo " + num(lo) + " > hi " + num(hi);
    return "";
  };
  if (n == "rotate") return range(a[0], a[1]);
  if (n == "translate") return (a[0] < 0 || a[1] < 0 || a[0] > 1 || a[1] > 1) ? "fx and fy must lie in [0, 1]" : "";
  if (n == "scale" || n == "aspect" || n == "gamma") {
    if (a[0] <= 0) return n + " needs lo > 0";
    return range(a[0], a[1]);
  }
  if (n == "shear") {
    if (std::abs(a[0]) >= 90 || std::abs(a[1]) >= 90) return "shear angles must lie in (-90, 90)";
    return range(a[0], a[1]);
  }
  if (n == "crop-resize") {
    if (a[0] <= 0 || a[1] > 1) return "area fractions must lie in (0, 1]";
    return range(a[0], a[1]);
  }
  if (n == "hflip" || n == "vflip" || n == "invert") return (a[0] < 0 || a[0] > 1) ? "p must lie in [0, 1]" : "";
  if (n == "background") {
    if (!is_int(a[0]) || !is_int(a[1])) return "levels must be integers";
    if (a[0] < 0 || a[1] > 256) return "levels must lie in [0, 256]";
    if (a[0] >= a[1]) return "lo " + num(a[0]) + " >= hi " + num(a[1]) + " (the range [lo,hi) is empty)";
    return "";
  }
  if (n == "brightness" || n == "contrast") {
    if (a[0] < 0) return n + " needs lo >= 0";
    return range(a[0], a[1]);
  }
  if (n == "noise") return a[0] < 0 ? "sigma must be >= 0" : "";
  if (n == "blur") {
    if (a[0] < 0) return "sigma must be >= 0";
    if (a[1] > 50) return "sigma must be <= 50";
    return range(a[0], a[1]);
  }
  if (n == "dilate" || n == "erode") {
    if (!is_int(a[0]) || !is_int(a[1])) return "k must be an integer";
    if (a[0] < 1) return "k must be >= 1 (got kmin " + num(a[0]) + ")";
    if (a[1] > 99) return "k must be <= 99";
    return range(a[0], a[1]);
  }
  if (n == "elastic") {
    if (a[0] < 0) return "alpha must be >= 0";
    if (a[1] <= 0 || a[1] > 50) return "sigma must lie in (0, 50]";
    return "";
  }
  return "";
}

}  // namespace invkit::transforms
