// RaterLabeller: majority votes of simulated raters on the sentiment oracle.
#include "core/tasks/rater_labeller.h"

#include "core/tasks/sentiment_oracle.h"

#include <cstdio>
#include <random>

namespace preflab::core {

std::string RaterLabeller::name() const {
  char temperature[32];
  std::snprintf(temperature, sizeof temperature, "%g", m_temperature);
  return std::to_string(m_raters) + " simulated rater(s) on the sentiment oracle, temperature " + temperature;
}

std::vector<Preference> RaterLabeller::label(const std::vector<LabelRequest> &requests,
                                             const std::atomic<bool> * /*cancel: never blocks*/) {
  std::vector<Preference> out;
  out.reserve(requests.size());
  for (const auto &r : requests) {
    std::mt19937_64 rng(r.seed); // the completions are rated, as the task's offline pairs are
    const int votesA = SentimentOracle::rateA(r.a, r.b, m_raters, m_temperature, rng);
    out.push_back(2 * votesA > m_raters   ? Preference::A
                  : 2 * votesA < m_raters ? Preference::B
                                          : Preference::Tie);
  }
  return out;
}

} // namespace preflab::core
