#include "invkit/data/class_names.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "invkit/data/dataset.h"
#include "invkit/error.h"
#include "invkit/io/file.h"

namespace invkit {

namespace {

const std::vector<std::string> kFashionMnist = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

const std::vector<std::string> kMnist = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

const std::vector<std::string> kCifar10 = {"airplane", "automobile", "bird",  "cat",  "deer",
                                           "dog",      "frog",       "horse", "ship", "truck"};

// In label order, as in the data set's fine_label_names.txt.
const std::vector<std::string> kCifar100 = {
    "apple",        "aquarium_fish", "baby",         "bear",       "beaver",      "bed",         "bee",
    "beetle",       "bicycle",       "bottle",       "bowl",       "boy",         "bridge",      "bus",
    "butterfly",    "camel",         "can",          "castle",     "caterpillar", "cattle",      "chair",
    "chimpanzee",   "clock",         "cloud",        "cockroach",  "couch",       "crab",        "crocodile",
    "cup",          "dinosaur",      "dolphin",      "elephant",   "flatfish",    "forest",      "fox",
    "girl",         "hamster",       "house",        "kangaroo",   "keyboard",    "lamp",        "lawn_mower",
    "leopard",      "lion",          "lizard",       "lobster",    "man",         "maple_tree",  "motorcycle",
    "mountain",     "mouse",         "mushroom",     "oak_tree",   "orange",      "orchid",      "otter",
    "palm_tree",    "pear",          "pickup_truck", "pine_tree",  "plain",       "plate",       "poppy",
    "porcupine",    "possum",        "rabbit",       "raccoon",    "ray",         "road",        "rocket",
    "rose",         "sea",           "seal",         "shark",      "shrew",       "skunk",       "skyscraper",
    "snail",        "snake",         "spider",       "squirrel",   "streetcar",   "sunflower",   "sweet_pepper",
    "table",        "tank",          "telephone",    "television", "tiger",       "tractor",     "train",
    "trout",        "tulip",         "turtle",       "wardrobe",   "whale",       "willow_tree", "wolf",
    "woman",        "worm"};

// As in the data set's coarse_label_names.txt.
const std::vector<std::string> kCifar100Coarse = {
    "aquatic_mammals",   "fish",           "flowers",
    "food_containers",   "fruit_and_vegetables",
    "household_electrical_devices",      "household_furniture",
    "insects",           "large_carnivores",
    "large_man-made_outdoor_things",     "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores",    "medium_mammals",
    "non-insect_invertebrates",          "people",
    "reptiles",          "small_mammals",  "trees",
    "vehicles_1",        "vehicles_2"};

const std::vector<std::pair<std::string, const std::vector<std::string>*>> kLists = {
    {"fashion-mnist", &kFashionMnist}, {"mnist", &kMnist},   {"cifar10", &kCifar10},
    {"cifar100", &kCifar100},          {"cifar100-coarse", &kCifar100Coarse}};

}  // namespace

std::vector<std::string> builtin_class_lists() {
  std::vector<std::string> names;
  for (const auto& [name, list] : kLists) names.push_back(name);
  return names;
}

std::optional<std::vector<std::string>> builtin_class_names(const std::string& name) {
  for (const auto& [n, list] : kLists)
    if (n == name) return *list;
  return std::nullopt;
}

std::vector<std::string> read_class_names_file(const std::string& path, io::NameEncoding encoding) {
  const std::string source = io::input_name(path);
  const std::vector<uint8_t> bytes = io::read_all(path);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const std::vector<std::string> lines = io::read_text_lines(text, encoding, source);
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string name = lines[i];
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    if (name.empty()) continue;
    if (!seen.insert(name).second)
      throw Error(source + ": line " + std::to_string(i + 1) + ": class name \"" + name + "\" appears twice");
    names.push_back(name);
  }
  if (names.empty()) throw Error(source + ": no class names (expected one per line)");
  return names;
}

std::vector<std::string> class_names_from_arg(const std::string& arg, io::NameEncoding encoding) {
  if (auto builtin = builtin_class_names(arg)) return *builtin;
  if (arg != "-" && !std::filesystem::exists(arg)) {
    std::string known;
    for (const auto& n : builtin_class_lists()) known += (known.empty() ? "" : ", ") + n;
    throw UsageError(param("class_names") + " " + arg + ": neither a built-in list (" + known +
                     ") nor an existing file");
  }
  return read_class_names_file(arg, encoding);
}

std::vector<std::string> default_idx_class_names(const std::string& images_path, int64_t max_label) {
  std::string lower = images_path;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.find("fashion") != std::string::npos) return kFashionMnist;
  if (lower.find("mnist") != std::string::npos && max_label <= 9) return kMnist;
  return numbered_class_names(max_label + 1);
}

void check_class_count(const std::vector<std::string>& names, int64_t num_classes, const std::string& what) {
  if (static_cast<int64_t>(names.size()) != num_classes)
    throw Error(what + ": " + std::to_string(names.size()) + " class names, but the labels run 0.." +
                std::to_string(num_classes - 1) + " (" + std::to_string(num_classes) + " classes)");
}

}  // namespace invkit
