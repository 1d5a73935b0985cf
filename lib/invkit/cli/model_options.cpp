#include "invkit/cli/model_options.h"

#include "invkit/models/classifier.h"

namespace invkit::cli {

void add_external_model_options(CLI::App& app, checkpoint::ExternalOptions& opt, bool logit_scale) {
  auto* g = app.add_option_group("Models trained elsewhere",
                                 "for TorchScript files and state dicts (safetensors or torch.save) in place of an "
                                 "invkit checkpoint");
  std::string archs;
  for (const auto& a : models::classifier_archs()) archs += (archs.empty() ? "" : "|") + a;
  g->add_option("--arch", opt.arch, "the architecture of a state dict: " + archs);
  g->add_option("--state-dict-key", opt.state_dict_key,
                "the entry of a torch.save dict that holds the state dict (default: the dict itself, else "
                "\"state_dict\", else \"model\")");
  g->add_option("--mean", opt.mean, "the model's input normalization mean, one value or one per channel")
      ->delimiter(',');
  g->add_option("--std", opt.std, "the model's input normalization std, one value or one per channel")
      ->delimiter(',');
  g->add_option("--pixel-max", opt.pixel_max, "input pixels span [0, N] before normalization: 1 (ToTensor) or 255")
      ->check(CLI::IsMember({1.0, 255.0}));
  g->add_option("--class-names", opt.class_names,
                "names of the model's outputs, in order: a built-in list (fashion-mnist, cifar10, ...) or a file "
                "of one name per line (default: the data set's)");
  auto* train = g->add_option("--train", opt.train, "the training set: class names and training counts");
  g->add_option("--train-counts", opt.train_counts,
                "training examples per output class: N,N,... or a file of one count per line")
      ->excludes(train);
  if (logit_scale)
    g->add_option("--logit-scale", opt.logit_scale,
                  "multiply the logits by S before the softmax (default 30 for LDAM's normalized last layer, else 1)");
}

}  // namespace invkit::cli
