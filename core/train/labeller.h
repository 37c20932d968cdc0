// Labeller: who says which of two responses is better (simulated raters, a person in the app).
// Torch-free, so a view can implement it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

// One question: which continuation of `prompt` is better, `a` or `b`.
struct LabelRequest {
  std::string prompt, a, b;
  // For labellers that draw at random (simulated raters): a seed fixed by the run and the
  // question, so a resumed run gets the same answers. A person ignores it.
  std::uint64_t seed = 0;
};

enum class Preference { A, B, Tie, Skip };

// Answers come back in the order asked. A labeller may block (a person answering in a view);
// when `cancel` is set it returns early with Skip for the questions left. Called on the
// training run's thread; an implementation that talks to a GUI hands the questions to the GUI
// thread and waits. Throws only on its own failure (the run then fails with the message).
class Labeller {
public:
  virtual ~Labeller() = default;
  // Shown in logs and the run's metadata ("5 simulated raters", "a person: alice").
  virtual std::string name() const = 0;
  virtual std::vector<Preference> label(const std::vector<LabelRequest> &requests,
                                        const std::atomic<bool> *cancel) = 0;
};

} // namespace preflab::core
