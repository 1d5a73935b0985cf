#include "invkit/transforms/geometric.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "invkit/error.h"
#include "invkit/transforms/padding.h"
#include "invkit/transforms/simd.h"
#include "invkit/transforms/warp_avx2.h"

namespace invkit::transforms {

Interp parse_interp(const std::string& name) {
  if (name.empty() || name == "bicubic") return Interp::Bicubic;
  if (name == "bilinear") return Interp::Bilinear;
  if (name == "nearest") return Interp::Nearest;
  throw UsageError("interp must be nearest, bilinear or bicubic, not \"" + name + "\"");
}

const char* interp_name(Interp interp) {
  switch (interp) {
    case Interp::Nearest: return "nearest";
    case Interp::Bilinear: return "bilinear";
    default: return "bicubic";
  }
}

Affine then(const Affine& p, const Affine& q) {
  return {q.a * p.a + q.b * p.d, q.a * p.b + q.b * p.e, q.a * p.c + q.b * p.f + q.c,
          q.d * p.a + q.e * p.d, q.d * p.b + q.e * p.e, q.d * p.c + q.e * p.f + q.f};
}

Affine inverse(const Affine& m) {
  double det = m.a * m.e - m.b * m.d;
  if (det == 0) throw Error("transform: singular affine map");
  // Exact for the permutations (flips, quarter turns) whose entries are 0 and ±1.
  Affine r{m.e / det, -m.b / det, 0, -m.d / det, m.a / det, 0};
  r.c = -(r.a * m.c + r.b * m.f);
  r.f = -(r.d * m.c + r.e * m.f);
  return r;
}

namespace {

constexpr double kPi = 3.14159265358979323846;

// cos and sin of an angle in degrees, exact at multiples of 90 (so quarter
// turns are exact pixel permutations).
void cos_sin_degrees(double deg, double& c, double& s) {
  double r = std::fmod(deg, 360.0);
  if (r < 0) r += 360.0;
  if (r == 0) { c = 1; s = 0; return; }
  if (r == 90) { c = 0; s = 1; return; }
  if (r == 180) { c = -1; s = 0; return; }
  if (r == 270) { c = 0; s = -1; return; }
  c = std::cos(deg * kPi / 180.0);
  s = std::sin(deg * kPi / 180.0);
}

}  // namespace

Affine rotation(double degrees) {
  double c, s;
  cos_sin_degrees(degrees, c, s);
  return {c, s, 0, -s, c, 0};
}

Affine shear(double degrees) {
  Affine m;
  m.b = std::tan(degrees * kPi / 180.0);
  return m;
}

namespace {

typedef float v4f __attribute__((vector_size(16)));

INVKIT_INLINE v4f load4(const float* p) {
  v4f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

INVKIT_INLINE uint8_t to_u8(float v) {
  v = v < 0.f ? 0.f : (v > 255.f ? 255.f : v);
  return static_cast<uint8_t>(v + 0.5f);
}

// One channel into a float buffer P with a 2-pixel border that repeats the
// edge, and a map M of where a 4x4 window of P holds anything but zeros
// (M at (fy+1, fx+1) covers the bicubic taps of (fx, fy)): a pixel whose
// taps are all zero is zero, and skipping it is exact.
INVKIT_INLINE void pad_channel(const uint8_t* src, int64_t H, int64_t W, float* P, uint8_t* M) {
  const int64_t S = W + 4, n = (H + 4) * S;
  uint8_t* Q = M + n;  // padded bytes, then their row-wise OR
  pad_edges(src, H, W, Q);
  for (int64_t i = 0; i < n; ++i) P[i] = Q[i];
  nonzero_windows(Q, Q, M, S, n);
}

// Keys' cubic with a = -1 (PIL's affine bicubic), as polynomials in the
// fraction t for the taps at -1, 0, +1, +2.
INVKIT_INLINE v4f cubic_weights(float t) {
  const v4f c0 = {0, 1, 0, 0}, c1 = {-1, 0, 1, 0}, c2 = {2, -2, 1, -1}, c3 = {-1, 1, -1, 1};
  return c0 + t * (c1 + t * (c2 + t * c3));
}

// One output pixel from the padded channel P (stride S) at source (xs, ys),
// which the caller has checked lies inside the image.
template <Interp I>
INVKIT_INLINE uint8_t sample_at(const float* P, const uint8_t* M, int64_t S, const uint8_t* src, int64_t W, float xs,
                                float ys) {
  if constexpr (I == Interp::Nearest) {
    return src[static_cast<int64_t>(ys) * W + static_cast<int64_t>(xs)];
  } else if constexpr (I == Interp::Bilinear) {
    float u = xs - 0.5f, v = ys - 0.5f, fx = std::floor(u), fy = std::floor(v);
    if (!M[(static_cast<int64_t>(fy) + 1) * S + static_cast<int64_t>(fx) + 1]) return 0;
    float tx = u - fx, ty = v - fy;
    const float* p = P + (static_cast<int64_t>(fy) + 2) * S + static_cast<int64_t>(fx) + 2;
    float top = p[0] + tx * (p[1] - p[0]), bottom = p[S] + tx * (p[S + 1] - p[S]);
    return to_u8(top + ty * (bottom - top));
  } else {
    float u = xs - 0.5f, v = ys - 0.5f, fx = std::floor(u), fy = std::floor(v);
    const int64_t at = (static_cast<int64_t>(fy) + 1) * S + static_cast<int64_t>(fx) + 1;
    if (!M[at]) return 0;
    v4f wx = cubic_weights(u - fx), wy = cubic_weights(v - fy);
    const float* p = P + at;
    v4f acc = wy[0] * load4(p) + wy[1] * load4(p + S) + wy[2] * load4(p + 2 * S) + wy[3] * load4(p + 3 * S);
    acc *= wx;
    return to_u8((acc[0] + acc[1]) + (acc[2] + acc[3]));
  }
}


template <Interp I>
INVKIT_INLINE void warp_channel(const uint8_t* src, uint8_t* dst, int64_t H, int64_t W, const Affine& m, float* P) {
  const int64_t S = W + 4;
  uint8_t* M = reinterpret_cast<uint8_t*>(P + (H + 4) * S);
  if constexpr (I != Interp::Nearest) pad_channel(src, H, W, P, M);
  const float fw = static_cast<float>(W), fh = static_cast<float>(H);
  const float a = static_cast<float>(m.a), d = static_cast<float>(m.d);
  for (int64_t y = 0; y < H; ++y) {
    // Source of the centre of output pixel (0, y); each step in x adds (a, d).
    double oy = y + 0.5 - H / 2.0, ox = 0.5 - W / 2.0;
    float x0 = static_cast<float>(m.a * ox + m.b * oy + m.c + W / 2.0);
    float y0 = static_cast<float>(m.d * ox + m.e * oy + m.f + H / 2.0);
    uint8_t* out = dst + y * W;
    for (int64_t x = 0; x < W; ++x) {
      float xs = x0 + a * static_cast<float>(x), ys = y0 + d * static_cast<float>(x);
      out[x] = (xs >= 0.f && xs < fw && ys >= 0.f && ys < fh) ? sample_at<I>(P, M, S, src, W, xs, ys) : 0;
    }
  }
}

template <Interp I>
INVKIT_INLINE void sample_channel(const uint8_t* src, uint8_t* dst, int64_t H, int64_t W, const float* xs,
                                  const float* ys, float* P) {
  const int64_t S = W + 4;
  uint8_t* M = reinterpret_cast<uint8_t*>(P + (H + 4) * S);
  if constexpr (I != Interp::Nearest) pad_channel(src, H, W, P, M);
  const float fw = static_cast<float>(W), fh = static_cast<float>(H);
  for (int64_t i = 0; i < H * W; ++i)
    dst[i] = (xs[i] >= 0.f && xs[i] < fw && ys[i] >= 0.f && ys[i] < fh) ? sample_at<I>(P, M, S, src, W, xs[i], ys[i]) : 0;
}

}  // namespace


INVKIT_KERNEL void warp_image(const uint8_t* src, uint8_t* dst, int64_t C, int64_t H, int64_t W, const Affine& inv, Interp interp,
                float* scratch) {
  const int64_t plane = H * W;
  if (inv.identity()) {
    std::memcpy(dst, src, static_cast<size_t>(C * plane));
    return;
  }
  for (int64_t c = 0; c < C; ++c) {
    const uint8_t* s = src + c * plane;
    uint8_t* o = dst + c * plane;
    switch (interp) {
      case Interp::Nearest: warp_channel<Interp::Nearest>(s, o, H, W, inv, scratch); break;
      case Interp::Bilinear: warp_channel<Interp::Bilinear>(s, o, H, W, inv, scratch); break;
      case Interp::Bicubic:
        if (avx2_warp_available()) {
          warp_bicubic_avx2(s, o, H, W, inv, scratch);
          break;
        }
        warp_channel<Interp::Bicubic>(s, o, H, W, inv, scratch);
        break;
    }
  }
}

INVKIT_KERNEL void sample_image(const uint8_t* src, uint8_t* dst, int64_t C, int64_t H, int64_t W, const float* xs, const float* ys,
                  Interp interp, float* scratch) {
  const int64_t plane = H * W;
  for (int64_t c = 0; c < C; ++c) {
    const uint8_t* s = src + c * plane;
    uint8_t* o = dst + c * plane;
    switch (interp) {
      case Interp::Nearest: sample_channel<Interp::Nearest>(s, o, H, W, xs, ys, scratch); break;
      case Interp::Bilinear: sample_channel<Interp::Bilinear>(s, o, H, W, xs, ys, scratch); break;
      case Interp::Bicubic: sample_channel<Interp::Bicubic>(s, o, H, W, xs, ys, scratch); break;
    }
  }
}

torch::Tensor warp_tensor(const torch::Tensor& images, const torch::Tensor& inv, Interp interp) {
  namespace F = torch::nn::functional;
  const int64_t N = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3);
  auto fopt = torch::TensorOptions().dtype(torch::kFloat).device(images.device());
  if (N == 0) return images.clone();
  auto m = inv.to(fopt).view({N, 6, 1, 1});
  auto gx = torch::arange(W, fopt).add(0.5 - W / 2.0).view({1, 1, W});
  auto gy = torch::arange(H, fopt).add(0.5 - H / 2.0).view({1, H, 1});
  auto col = [&](int i) { return m.select(1, i); };  // [N, 1, 1]
  auto xs = col(0) * gx + col(1) * gy + col(2) + W / 2.0;  // [N, H, W]
  auto ys = col(3) * gx + col(4) * gy + col(5) + H / 2.0;
  auto inside = (xs >= 0) & (xs < W) & (ys >= 0) & (ys < H);
  xs = xs.clamp(0, W - 1e-3);
  ys = ys.clamp(0, H - 1e-3);
  torch::Tensor out;
  if (interp == Interp::Nearest) {
    auto idx = (ys.floor() * W + xs.floor()).to(torch::kLong).view({N, 1, H * W}).expand({N, C, H * W});
    out = images.reshape({N, C, H * W}).gather(2, idx).view({N, C, H, W}).to(torch::kFloat);
  } else {
    const int64_t S = W + 4;
    auto padded = F::pad(images.to(torch::kFloat), F::PadFuncOptions({2, 2, 2, 2}).mode(torch::kReplicate))
                      .reshape({N, C, (H + 4) * S});
    auto u = xs - 0.5, v = ys - 0.5;
    auto fx = u.floor(), fy = v.floor();
    auto tx = u - fx, ty = v - fy;
    auto weights = [&](const torch::Tensor& t) -> std::vector<torch::Tensor> {
      if (interp == Interp::Bilinear) return {1 - t, t};
      // Keys' cubic, a = -1 (see cubic_weights).
      auto t2 = t * t, t3 = t2 * t;
      return {-t + 2 * t2 - t3, 1 - 2 * t2 + t3, t + t2 - t3, -t2 + t3};
    };
    auto wx = weights(tx), wy = weights(ty);
    const int64_t first = interp == Interp::Bilinear ? 0 : -1;
    auto base = (fy + 2 + first) * S + (fx + 2 + first);
    out = torch::zeros({N, C, H * W}, fopt);
    for (size_t j = 0; j < wy.size(); ++j)
      for (size_t i = 0; i < wx.size(); ++i) {
        auto idx = (base + static_cast<double>(j * S + i)).to(torch::kLong).view({N, 1, H * W}).expand({N, C, H * W});
        out += padded.gather(2, idx) * (wy[j] * wx[i]).view({N, 1, H * W});
      }
    out = out.view({N, C, H, W}).clamp(0, 255).add(0.5).floor();
  }
  return out.mul(inside.unsqueeze(1).to(torch::kFloat)).to(torch::kByte);
}

}  // namespace invkit::transforms
