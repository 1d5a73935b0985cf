#include "invkit/transforms/ops.h"

#include <cmath>
#include <cstdio>
#include <utility>

#include "invkit/transforms/elastic.h"
#include "invkit/transforms/morphology.h"
#include "invkit/transforms/pixel.h"

namespace invkit::transforms {

namespace {

bool is_int(double v) { return std::floor(v) == v; }

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// The checks several operations share.
std::string ordered(const Args& a) { return a[0] > a[1] ? "lo " + num(a[0]) + " > hi " + num(a[1]) : ""; }
std::string probability(const Args& a) { return (a[0] < 0 || a[0] > 1) ? "p must lie in [0, 1]" : ""; }
std::string kernel_sizes(const Args& a) {
  if (!is_int(a[0]) || !is_int(a[1])) return "k must be an integer";
  if (a[0] < 1) return "k must be >= 1 (got kmin " + num(a[0]) + ")";
  if (a[1] > 99) return "k must be <= 99";
  return ordered(a);
}

// The draws several operations share: one value from U(lo,hi), recorded.
double uniform(const Args& a, Draws& r, Params p) {
  double v = r.uniform(a[0], a[1]);
  p.set(0, v);
  return v;
}
// k uniform in {kmin..kmax}, recorded.
double kernel_size(const Args& a, Draws& r, Params p) {
  auto k = static_cast<double>(r.integer(static_cast<int64_t>(a[0]), static_cast<int64_t>(a[1])));
  p.set(0, k);
  return k;
}
// 1 with probability p, else 0, recorded.
double coin(const Args& a, Draws& r, Params p) {
  double v = r.bernoulli(a[0]) ? 1 : 0;
  p.set(0, v);
  return v;
}

// Dilation or erosion with a k x k square.
void morph(bool dilate, double k, Image& im) {
  const auto size = static_cast<int64_t>(k);
  im.scratch.resize(static_cast<size_t>(morph_scratch(im.height, im.width, size) / 4 + 1));  // bytes, held in floats
  morph_image(dilate, size, im.pixels, im.channels, im.height, im.width, reinterpret_cast<uint8_t*>(im.scratch.data()));
}

// A mirror image with probability a[0], recorded as 0/1.
Affine flip(bool horizontal, const Args& a, Draws& r, Params p) {
  Affine m;
  bool flipped = r.bernoulli(a[0]);
  if (flipped) (horizontal ? m.a : m.e) = -1;
  p.set(0, flipped);
  return m;
}

}  // namespace

const std::vector<Op>& all_ops() {
  // Each record: name, argument names, recorded parameters, preset, example,
  // sentence, argument check, and how it runs.
  static const std::vector<Op> ops = {
      {"identity", {}, {}, "identity", "identity", "returns the image unchanged"},

      // Geometric: each draws a map; adjacent ones fuse into one resampling.
      {"rotate", {"lo", "hi"}, {"angle"}, "rotate(-180,180)", "rotate(-30,30)",
       "rotation about the centre by an angle in degrees drawn from U(lo,hi); positive = counter-clockwise", ordered,
       Geometric{[](const Args& a, Draws& r, double, double, Params p) { return rotation(uniform(a, r, p)); }}},
      {"translate", {"fx", "fy"}, {"dx", "dy"}, "", "translate(0.1,0.2)",
       "shift by U(-fx,fx)*width and U(-fy,fy)*height pixels",
       [](const Args& a) -> std::string {
         return (a[0] < 0 || a[1] < 0 || a[0] > 1 || a[1] > 1) ? "fx and fy must lie in [0, 1]" : "";
       },
       Geometric{[](const Args& a, Draws& r, double H, double W, Params p) {
         Affine m;
         m.c = r.uniform(-a[0], a[0]) * W;
         m.f = r.uniform(-a[1], a[1]) * H;
         p.set(0, m.c);
         p.set(1, m.f);
         return m;
       }}},
      {"scale", {"lo", "hi"}, {"factor"}, "", "scale(0.8,1.2)", "zoom about the centre by U(lo,hi)",
       [](const Args& a) -> std::string { return a[0] <= 0 ? "scale needs lo > 0" : ordered(a); },
       Geometric{[](const Args& a, Draws& r, double, double, Params p) {
         Affine m;
         m.a = m.e = uniform(a, r, p);
         return m;
       }}},
      {"aspect", {"lo", "hi"}, {"ratio"}, "", "aspect(0.5,2)",
       "stretch width/height by a log-uniform ratio r in [lo,hi], area kept (x*sqrt(r), y/sqrt(r))",
       [](const Args& a) -> std::string { return a[0] <= 0 ? "aspect needs lo > 0" : ordered(a); },
       Geometric{[](const Args& a, Draws& r, double, double, Params p) {
         double ratio = std::exp(r.uniform(std::log(a[0]), std::log(a[1])));
         Affine m;
         m.a = std::sqrt(ratio);
         m.e = 1 / m.a;
         p.set(0, ratio);
         return m;
       }}},
      {"shear", {"lo", "hi"}, {"angle"}, "", "shear(-10,10)",
       "horizontal shear x += tan(a)*y by an angle a in degrees from U(lo,hi)",
       [](const Args& a) -> std::string {
         if (std::abs(a[0]) >= 90 || std::abs(a[1]) >= 90) return "shear angles must lie in (-90, 90)";
         return ordered(a);
       },
       Geometric{[](const Args& a, Draws& r, double, double, Params p) { return shear(uniform(a, r, p)); }}},
      {"crop-resize", {"smin", "smax"}, {"area", "cx", "cy"}, "", "crop-resize(0.5,1)",
       "crop a square-scaled window of area fraction U(smin,smax) at a uniform position, resize to full size",
       [](const Args& a) -> std::string {
         if (a[0] <= 0 || a[1] > 1) return "area fractions must lie in (0, 1]";
         return ordered(a);
       },
       Geometric{[](const Args& a, Draws& r, double H, double W, Params p) {
         double area = r.uniform(a[0], a[1]), q = std::sqrt(area);
         // The crop's centre, in pixels from the image's top-left corner.
         double cx = W / 2 + r.uniform(-0.5, 0.5) * W * (1 - q);
         double cy = H / 2 + r.uniform(-0.5, 0.5) * H * (1 - q);
         p.set(0, area);
         p.set(1, cx);
         p.set(2, cy);
         return Affine{1 / q, 0, -(cx - W / 2) / q, 0, 1 / q, -(cy - H / 2) / q};
       }}},
      // Flips are exact under any interpolation and ask for none.
      {"hflip", {"p"}, {"flipped"}, "hflip(0.5)", "hflip(0.5)", "mirror left-right with probability p", probability,
       Geometric{[](const Args& a, Draws& r, double, double, Params p) { return flip(true, a, r, p); }, false}},
      {"vflip", {"p"}, {"flipped"}, "vflip(0.5)", "vflip(0.5)", "mirror top-bottom with probability p", probability,
       Geometric{[](const Args& a, Draws& r, double, double, Params p) { return flip(false, a, r, p); }, false}},

      // Pixel: one value per image, applied in place.
      {"background", {"lo", "hi"}, {"level"}, "background(0,100)", "background(0,100)",
       "pixels equal to 0 become one integer level drawn uniformly from [lo,hi) for the whole image",
       [](const Args& a) -> std::string {
         if (!is_int(a[0]) || !is_int(a[1])) return "levels must be integers";
         if (a[0] < 0 || a[1] > 256) return "levels must lie in [0, 256]";
         if (a[0] >= a[1]) return "lo " + num(a[0]) + " >= hi " + num(a[1]) + " (the range [lo,hi) is empty)";
         return "";
       },
       PerImage{[](const Args& a, Draws& r, Params p) {
                  auto lo = static_cast<int64_t>(a[0]), hi = static_cast<int64_t>(a[1]);
                  auto level = static_cast<double>(r.integer(lo, hi - 1));
                  p.set(0, level);
                  return level;
                },
                [](const Args&, double level, const Draws&, Image& im) {
                  background_image(static_cast<uint8_t>(level), im.pixels, im.channels, im.height, im.width);
                },
                background_tensor}},
      {"brightness", {"lo", "hi"}, {"factor"}, "", "brightness(0.5,1.5)", "multiply by U(lo,hi)",
       [](const Args& a) -> std::string { return a[0] < 0 ? "brightness needs lo >= 0" : ordered(a); },
       PerImage{uniform,
                [](const Args&, double f, const Draws&, Image& im) { brightness_image(f, im.pixels, im.bytes()); },
                brightness_tensor}},
      {"contrast", {"lo", "hi"}, {"factor"}, "", "contrast(0.5,1.5)",
       "blend with the image's mean by U(lo,hi): mean + f*(x - mean)",
       [](const Args& a) -> std::string { return a[0] < 0 ? "contrast needs lo >= 0" : ordered(a); },
       PerImage{uniform,
                [](const Args&, double f, const Draws&, Image& im) { contrast_image(f, im.pixels, im.bytes()); },
                contrast_tensor}},
      {"gamma", {"lo", "hi"}, {"gamma"}, "", "gamma(0.5,2)", "255*(x/255)^g with g from U(lo,hi)",
       [](const Args& a) -> std::string { return a[0] <= 0 ? "gamma needs lo > 0" : ordered(a); },
       PerImage{uniform,
                [](const Args&, double g, const Draws&, Image& im) { gamma_image(g, im.pixels, im.bytes()); },
                gamma_tensor}},
      {"noise", {"sigma"}, {}, "", "noise(5)", "add Gaussian noise of standard deviation sigma (in levels 0-255)",
       [](const Args& a) -> std::string { return a[0] < 0 ? "sigma must be >= 0" : ""; },
       PerImage{[](const Args& a, Draws&, Params) { return a[0]; },
                [](const Args&, double sigma, const Draws& r, Image& im) {
                  noise_image(sigma, r, im.pixels, im.bytes());
                }}},
      {"blur", {"smin", "smax"}, {"sigma"}, "", "blur(0,1)",
       "Gaussian blur, sigma in pixels from U(smin,smax), radius ceil(3 sigma), edges replicated",
       [](const Args& a) -> std::string {
         if (a[0] < 0) return "sigma must be >= 0";
         if (a[1] > 50) return "sigma must be <= 50";
         return ordered(a);
       },
       PerImage{uniform, [](const Args&, double sigma, const Draws&, Image& im) {
                  im.scratch.resize(static_cast<size_t>(blur_scratch(im.height, im.width)));
                  blur_image(sigma, im.pixels, im.channels, im.height, im.width, im.scratch.data());
                }}},
      {"invert", {"p"}, {"inverted"}, "invert(0.5)", "invert(0.5)", "255 - x with probability p", probability,
       PerImage{coin,
                [](const Args&, double flag, const Draws&, Image& im) {
                  if (flag != 0) invert_image(im.pixels, im.bytes());
                },
                invert_tensor}},

      // Morphology: a k x k square per image.
      {"dilate", {"kmin", "kmax"}, {"k"}, "", "dilate(2,4)",
       "grey dilation (max) with a k x k square, k uniform in {kmin..kmax}, OpenCV anchor k/2", kernel_sizes,
       PerImage{kernel_size, [](const Args&, double k, const Draws&, Image& im) { morph(true, k, im); },
                [](const torch::Tensor& x, const torch::Tensor& ks) { return morph_tensor(true, x, ks); }}},
      {"erode", {"kmin", "kmax"}, {"k"}, "", "erode(1,2)",
       "grey erosion (min) with a k x k square, k uniform in {kmin..kmax}, OpenCV anchor k/2", kernel_sizes,
       PerImage{kernel_size, [](const Args&, double k, const Draws&, Image& im) { morph(false, k, im); },
                [](const torch::Tensor& x, const torch::Tensor& ks) { return morph_tensor(false, x, ks); }}},

      // Elastic: its per-pixel draws happen inside the kernel.
      {"elastic", {"alpha", "sigma"}, {}, "", "elastic(8,3)",
       "elastic distortion: uniform(-1,1) displacement fields smoothed by a Gaussian of sigma pixels, times alpha",
       [](const Args& a) -> std::string {
         if (a[0] < 0) return "alpha must be >= 0";
         if (a[1] <= 0 || a[1] > 50) return "sigma must lie in (0, 50]";
         return "";
       },
       PerImage{nullptr, [](const Args& a, double, const Draws& r, Image& im) {
                  elastic_image(im.pixels, im.spare, im.channels, im.height, im.width, a[0], a[1], r, im.scratch);
                  std::swap(im.pixels, im.spare);
                }}},

      {"dilate-erode", {}, {}, "0.6:dilate(2,4)|0.4:erode(1,2)", "dilate-erode",
       "the paper's K49-DIL: dilate (k 2-4) with probability 0.6, else erode (k 1-2)"},
  };
  return ops;
}

const Op* find_op(const std::string& name) {
  for (const auto& op : all_ops())
    if (op.name == name) return &op;
  return nullptr;
}

std::string op_names() {
  std::string s;
  for (const auto& op : all_ops()) s += (s.empty() ? "" : ", ") + op.name;
  return s;
}

std::string check_args(const Op& op, const Args& a) {
  for (double v : a)
    if (!std::isfinite(v)) return "arguments must be finite numbers";
  return op.check ? op.check(a) : "";
}

}  // namespace invkit::transforms
