// StoreLabeller: a person as a run's gold labeller, through a label store. Each batch of
// questions becomes items of the store; the labeller waits until every one has a decision (made
// in the app's Label tab, by preflab-cli labels decide, or by another process) and answers with
// them. No LibTorch, no Qt.
#pragma once

#include "core/train/labeller.h"

#include <cstdint>
#include <functional>
#include <string>

namespace preflab::core {

class StoreLabeller : public Labeller {
public:
  // Called when a batch is in the store and the run starts waiting: the store, how many items
  // the batch has and how many of them still want a decision.
  using AskFn = std::function<void(const std::string &store, std::int64_t asked, std::int64_t open)>;

  // `store` is created when missing. `annotator` empty: any annotator's decision answers (the
  // majority when several disagree; a level vote is a tie). `pollSeconds`: how often the store is
  // read while waiting.
  StoreLabeller(std::string store, std::string annotator = {}, AskFn onAsk = {}, double pollSeconds = 0.25);

  std::string name() const override;
  // Item ids are "gold-<hash of the question>", so a resumed run that asks the same question
  // again gets the stored answer at once, and a different question never does. first
  // = a, second = b; tie and both bad answer Tie; a skip is not an answer; a question whose two answers are
  // one text is not asked (Skip). Blocks until every question has an answer or `cancel` is set (the rest are
  // then Skip). Throws InputError for a store that cannot be opened.
  std::vector<Preference> label(const std::vector<LabelRequest> &requests,
                                const std::atomic<bool> *cancel) override;

  const std::string &store() const { return m_store; }

private:
  std::string m_store, m_annotator;
  AskFn m_onAsk;
  double m_pollSeconds;
  std::int64_t m_batches = 0;
};

} // namespace preflab::core
