// Geometric operations: each draws an affine map per image; adjacent ones
// compose into one map and the image is resampled once, with PIL's
// conventions (Image.transform/rotate): pixel (x, y) is the square
// [x, x+1) x [y, y+1), an output pixel takes the value at the source point
// of its centre, a source point outside [0,W) x [0,H) gives 0 (zero fill),
// neighbours beyond the edge repeat the edge pixel. Bicubic is PIL's affine
// bicubic (Keys' cubic with a = -1), bilinear its bilinear, nearest the
// pixel that contains the point. Values are rounded and clamped to 0..255.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace invkit::transforms {

enum class Interp { Nearest, Bilinear, Bicubic };
Interp parse_interp(const std::string& name);  // "" = bicubic
const char* interp_name(Interp interp);

// x' = a x + b y + c, y' = d x + e y + f, in pixel units about the image
// centre (x right, y down).
struct Affine {
  double a = 1, b = 0, c = 0, d = 0, e = 1, f = 0;
  bool identity() const { return a == 1 && b == 0 && c == 0 && d == 0 && e == 1 && f == 0; }
};
Affine then(const Affine& first, const Affine& second);  // second(first(p))
Affine inverse(const Affine& m);

// Rotation about the centre by `degrees`, counter-clockwise on screen (y
// points down) as PIL's rotate; exact at multiples of 90 degrees, so quarter
// turns are exact pixel permutations.
Affine rotation(double degrees);
// Horizontal shear x += tan(degrees) * y.
Affine shear(double degrees);

// Resamples one image (uint8 [C, H, W], contiguous) through `inv`, the map
// from output to input positions. `scratch` holds warp_scratch(H, W) floats.
void warp_image(const uint8_t* src, uint8_t* dst, int64_t channels, int64_t height, int64_t width, const Affine& inv,
                Interp interp, float* scratch);

// Floats of scratch space warp_image and sample_image need.
inline int64_t warp_scratch(int64_t height, int64_t width) {
  return (height + 4) * (width + 4) * 2 + 4 * (height * width + 8);
}

// Resamples one image at arbitrary source points (xs, ys: H*W each, in
// PIL's pixel coordinates, so an unmoved pixel centre is (x+0.5, y+0.5)).
void sample_image(const uint8_t* src, uint8_t* dst, int64_t channels, int64_t height, int64_t width, const float* xs,
                  const float* ys, Interp interp, float* scratch);

// Whether hand-vectorized kernels (AVX2) may run where the CPU has them;
// returns whether they will. For tests that compare them with the portable ones.
bool use_simd_kernels(bool allow);

// The same resampling with tensor ops, on the images' device: images uint8
// [N, C, H, W], inv float64 [N, 6] (a, b, c, d, e, f of each output->input map).
torch::Tensor warp_tensor(const torch::Tensor& images, const torch::Tensor& inv, Interp interp);

}  // namespace invkit::transforms
