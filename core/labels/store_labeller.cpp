// StoreLabeller: questions into a label store, answers from its decisions.
#include "core/labels/store_labeller.h"

#include "core/io/content_hash.h"
#include "core/labels/label_agreement.h"
#include "core/labels/label_store.h"

#include <chrono>
#include <map>
#include <thread>

namespace preflab::core {

namespace {

std::string questionId(const LabelRequest &r) {
  std::uint64_t h = kFnvOffset;
  for (const auto *part : {&r.prompt, &r.a, &r.b}) {
    const std::uint64_t n = part->size(); // lengths keep ("ab", "c") and ("a", "bc") apart
    h = fnv1a(h, &n, sizeof n);
    h = fnv1a(h, part->data(), part->size());
  }
  return "gold-" + hexDigest(h);
}

std::optional<Preference> answerOf(const std::vector<LabelEvent> &decisions) {
  if (decisions.empty())
    return std::nullopt;
  const auto a = computeAgreement(decisions);
  const auto majority = a.items.empty() ? std::nullopt : a.items.front().majority;
  if (!majority)
    return Preference::Tie; // annotators level between the top choices
  return *majority == LabelChoice::First    ? Preference::A
         : *majority == LabelChoice::Second ? Preference::B
                                            : Preference::Tie;
}

} // namespace

StoreLabeller::StoreLabeller(std::string store, std::string annotator, AskFn onAsk, double pollSeconds)
    : m_store(std::move(store)), m_annotator(std::move(annotator)), m_onAsk(std::move(onAsk)),
      m_pollSeconds(pollSeconds) {}

std::string StoreLabeller::name() const {
  return "a person, through " + m_store + (m_annotator.empty() ? std::string() : " (" + m_annotator + ")");
}

std::vector<Preference> StoreLabeller::label(const std::vector<LabelRequest> &requests,
                                             const std::atomic<bool> *cancel) {
  std::vector<Preference> out(requests.size(), Preference::Skip);
  if (requests.empty())
    return out;
  ++m_batches;
  LabelStore store(m_store);
  std::vector<LabelItem> items;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    LabelItem item;
    item.id = questionId(requests[i]);
    item.kind = "text";
    item.prompt = requests[i].prompt;
    item.candidates[0] = requests[i].a;
    item.candidates[1] = requests[i].b;
    item.source = "gold batch " + std::to_string(m_batches);
    item.line = std::int64_t(i + 1);
    ids.push_back(item.id);
    if (item.candidates[0] != item.candidates[1]) // one text twice: nothing to ask (stays Skip)
      items.push_back(std::move(item));
  }
  store.addItems(items);
  std::map<std::string, std::int64_t> keyOf;
  for (const auto &s : store.items())
    keyOf[s.item.id] = s.key;
  bool announced = false;
  while (true) {
    std::map<std::int64_t, std::vector<LabelEvent>> byItem;
    for (const auto &d : store.currentDecisions())
      if (m_annotator.empty() || d.annotator == m_annotator)
        byItem[d.item].push_back(d);
    std::int64_t open = 0;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (requests[i].a == requests[i].b)
        continue;
      // Read afresh each pass: an answer undone since the last one is open again.
      const auto answer = answerOf(byItem[keyOf[ids[i]]]);
      out[i] = answer.value_or(Preference::Skip);
      open += !answer;
    }
    if (open == 0)
      return out;
    if (!announced && m_onAsk) {
      m_onAsk(m_store, std::int64_t(items.size()), open);
      announced = true;
    }
    if (cancel && cancel->load())
      return out; // the open questions are Skip
    std::this_thread::sleep_for(std::chrono::duration<double>(m_pollSeconds));
  }
}

} // namespace preflab::core
