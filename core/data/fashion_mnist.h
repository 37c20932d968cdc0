// Fashion-MNIST from Debian's dataset-fashion-mnist package: images, labels, class names, prompts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

constexpr int kFashionMnistSide = 28;    // images are 28×28, one channel
constexpr int kFashionMnistClasses = 10; // labels 0..9

// Where the package installs the files.
constexpr const char *kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";

// One split: count images of 28×28 bytes (row-major, 0 = background, 255 = full ink) and their
// labels, images.size() == count * 28 * 28, labels.size() == count.
struct FashionMnistSplit {
  std::string split;     // "train" or "test"
  std::string directory; // where the files were read from
  std::int64_t count = 0;
  std::vector<std::uint8_t> images;
  std::vector<std::uint8_t> labels;

  const std::uint8_t *image(std::int64_t i) const {
    return images.data() + i * kFashionMnistSide * kFashionMnistSide;
  }
};

// The dataset's own class names, by label: "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
// "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot".
const std::vector<std::string> &fashionMnistClassNames();

// The lower-case noun phrase a prompt uses for a label. The class names become plain nouns;
// two are reworded so the phrase reads as English: "T-shirt/top" -> "t-shirt" and "Trouser" ->
// "pair of trousers". Throws std::out_of_range for a label outside 0..9.
std::string fashionMnistNoun(int label);

// "a photo of a <noun>", with "an" before a vowel: "a photo of a sneaker",
// "a photo of a pair of trousers", "a photo of an ankle boot".
std::string fashionMnistPrompt(int label);

// Phrasings of the class prompts. Template 0 is fashionMnistPrompt(); the others say the same
// with other words: "a picture of a sneaker", "an image of a sneaker", "a sneaker", "a product
// photo of a sneaker", "a catalogue picture of a sneaker". The text-to-image task pretrains on all
// of them, builds preference pairs from the first kFashionPairTemplates and evaluates on the rest
// (phrasings the preference tuning never saw).
constexpr int kFashionPromptTemplates = 6;
constexpr int kFashionPairTemplates = 4;
// Throws std::out_of_range for a label outside 0..9 or a template outside 0..5.
std::string fashionMnistPrompt(int label, int templateIndex);

// The directory to read: `directory` when not empty, else the environment variable
// PREFLAB_FASHION_MNIST_DIR when set and not empty, else kFashionMnistDefaultDir.
std::string fashionMnistDirectory(const std::string &directory = {});

// True when both files of `split` exist (gzip-compressed or not) in the resolved directory.
bool fashionMnistAvailable(const std::string &split = "test", const std::string &directory = {});

// Reads split "train" (60000 images) or "test" (10000) from the resolved directory: the files
// <prefix>-images-idx3-ubyte.gz and <prefix>-labels-idx1-ubyte.gz with prefix "train" or "t10k"
// (each may also be stored uncompressed, without ".gz"). Throws InputError for an unknown split
// (key "split"), missing files (naming the directory, the Debian package and the environment
// variable), and files that are not 28×28 images with matching labels in 0..9 (naming the file).
// Thread-safe.
FashionMnistSplit loadFashionMnist(const std::string &split, const std::string &directory = {});

} // namespace preflab::core
