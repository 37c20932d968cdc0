// RaterLabeller: the sentiment task's gold labels, a majority of simulated Bradley–Terry raters
// on the lexicon oracle (the same raters that label the task's offline pairs).
#pragma once

#include "core/train/labeller.h"

namespace preflab::core {

class RaterLabeller : public Labeller {
public:
  // `raters` raters, each preferring a with probability σ((score(a) − score(b)) / temperature).
  RaterLabeller(int raters, double temperature) : m_raters(raters), m_temperature(temperature) {}

  std::string name() const override;
  // The majority; an even split is a Tie. Each request draws from its own seed, so answers do not
  // depend on which other questions were asked with it. Never blocks.
  std::vector<Preference> label(const std::vector<LabelRequest> &requests,
                                const std::atomic<bool> *cancel) override;

private:
  int m_raters;
  double m_temperature;
};

} // namespace preflab::core
