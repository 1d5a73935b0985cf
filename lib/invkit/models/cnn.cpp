#include "invkit/models/cnn.h"

namespace invkit::models {

namespace nn = torch::nn;

SmallCnnImpl::SmallCnnImpl(int64_t channels, int64_t num_classes, bool normed_linear) {
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(channels, 16, 3).padding(1).bias(false)));
  bn1 = register_module("bn1", nn::BatchNorm2d(16));
  conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(16, 32, 3).padding(1).bias(false)));
  bn2 = register_module("bn2", nn::BatchNorm2d(32));
  if (normed_linear)
    normed = register_module("linear", NormedLinear(32, num_classes));
  else
    linear = register_module("linear", nn::Linear(32, num_classes));
  nn::init::kaiming_normal_(conv1->weight);
  nn::init::kaiming_normal_(conv2->weight);
  if (linear) nn::init::kaiming_normal_(linear->weight);
}

torch::Tensor SmallCnnImpl::forward(torch::Tensor x) {
  auto out = torch::max_pool2d(torch::relu(bn1->forward(conv1->forward(x))), 2);
  out = torch::relu(bn2->forward(conv2->forward(out))).mean({2, 3});
  return normed ? normed->forward(out) : linear->forward(out);
}

}  // namespace invkit::models
