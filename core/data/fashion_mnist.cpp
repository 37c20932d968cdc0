// Fashion-MNIST: file names of the Debian package, shape checks, and prompts from class names.
#include "core/data/fashion_mnist.h"

#include "core/data/idx_reader.h"
#include "core/io/input_error.h"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace preflab::core {

namespace {

struct ClassText {
  const char *name;
  const char *noun;
};

constexpr std::array<ClassText, kFashionMnistClasses> kClasses{{{"T-shirt/top", "t-shirt"},
                                                                {"Trouser", "pair of trousers"},
                                                                {"Pullover", "pullover"},
                                                                {"Dress", "dress"},
                                                                {"Coat", "coat"},
                                                                {"Sandal", "sandal"},
                                                                {"Shirt", "shirt"},
                                                                {"Sneaker", "sneaker"},
                                                                {"Bag", "bag"},
                                                                {"Ankle boot", "ankle boot"}}};

const char *filePrefix(const std::string &split) {
  if (split == "train")
    return "train";
  if (split == "test")
    return "t10k";
  throw InputError({}, 0, "split", "unknown Fashion-MNIST split '" + split + "'; use 'train' or 'test'");
}

// The compressed file when present, else the uncompressed one; empty when neither exists.
std::string findFile(const std::string &directory, const std::string &name) {
  std::error_code code;
  const std::filesystem::path base = std::filesystem::path(directory) / name;
  for (const std::string &candidate : {base.string() + ".gz", base.string()})
    if (std::filesystem::is_regular_file(candidate, code))
      return candidate;
  return {};
}

std::string requireFile(const std::string &directory, const std::string &name) {
  std::string path = findFile(directory, name);
  if (path.empty())
    throw InputError(directory, 0, {},
                     "Fashion-MNIST file " + name +
                         ".gz is missing; install the Debian package "
                         "dataset-fashion-mnist (it provides " +
                         kFashionMnistDefaultDir +
                         "), or point PREFLAB_FASHION_MNIST_DIR at a directory holding the IDX files");
  return path;
}

std::string shapeText(const std::vector<std::int64_t> &dims) {
  std::string text;
  for (std::int64_t dim : dims)
    text += (text.empty() ? "" : "x") + std::to_string(dim);
  return text;
}

} // namespace

const std::vector<std::string> &fashionMnistClassNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const ClassText &text : kClasses)
      all.emplace_back(text.name);
    return all;
  }();
  return names;
}

std::string fashionMnistNoun(int label) {
  if (label < 0 || label >= kFashionMnistClasses)
    throw std::out_of_range("Fashion-MNIST label " + std::to_string(label) + " is outside 0..9");
  return kClasses[std::size_t(label)].noun;
}

std::string fashionMnistPrompt(int label) {
  return fashionMnistPrompt(label, 0);
}

std::string fashionMnistPrompt(int label, int templateIndex) {
  static const char *const kTemplates[kFashionPromptTemplates] = {
      "a photo of ", "a picture of ", "an image of ", "", "a product photo of ", "a catalogue picture of "};
  if (templateIndex < 0 || templateIndex >= kFashionPromptTemplates)
    throw std::out_of_range("prompt template " + std::to_string(templateIndex) + " is outside 0..5");
  const std::string noun = fashionMnistNoun(label);
  const bool vowel = std::string("aeiou").find(noun.front()) != std::string::npos;
  return std::string(kTemplates[templateIndex]) + (vowel ? "an " : "a ") + noun;
}

std::string fashionMnistDirectory(const std::string &directory) {
  if (!directory.empty())
    return directory;
  const char *fromEnvironment = std::getenv("PREFLAB_FASHION_MNIST_DIR");
  if (fromEnvironment != nullptr && *fromEnvironment != '\0')
    return fromEnvironment;
  return kFashionMnistDefaultDir;
}

bool fashionMnistAvailable(const std::string &split, const std::string &directory) {
  const std::string prefix = filePrefix(split);
  const std::string resolved = fashionMnistDirectory(directory);
  return !findFile(resolved, prefix + "-images-idx3-ubyte").empty() &&
         !findFile(resolved, prefix + "-labels-idx1-ubyte").empty();
}

FashionMnistSplit loadFashionMnist(const std::string &split, const std::string &directory) {
  const std::string prefix = filePrefix(split);
  FashionMnistSplit result;
  result.split = split;
  result.directory = fashionMnistDirectory(directory);
  const std::string imagePath = requireFile(result.directory, prefix + "-images-idx3-ubyte");
  const std::string labelPath = requireFile(result.directory, prefix + "-labels-idx1-ubyte");
  IdxArray images = readIdxFile(imagePath);
  IdxArray labels = readIdxFile(labelPath);
  if (images.dims.size() != 3 || images.dims[1] != kFashionMnistSide || images.dims[2] != kFashionMnistSide)
    throw InputError(imagePath, 0, "dims",
                     "expected N x 28 x 28 images, the file holds " + shapeText(images.dims));
  if (labels.dims.size() != 1 || labels.dims[0] != images.dims[0])
    throw InputError(labelPath, 0, "dims",
                     "expected " + std::to_string(images.dims[0]) + " labels (one per image in " + imagePath +
                         "), the file holds " + shapeText(labels.dims));
  for (std::size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= kFashionMnistClasses)
      throw InputError(labelPath, 0, "data",
                       "label " + std::to_string(labels.data[i]) + " of item " + std::to_string(i) +
                           " is outside 0..9");
  result.count = images.dims[0];
  result.images = std::move(images.data);
  result.labels = std::move(labels.data);
  return result;
}

} // namespace preflab::core
