// computeAgreement: majority per item, Cohen's κ per pair, Krippendorff's α and Fleiss' κ overall.
#include "core/labels/label_agreement.h"

#include <cmath>
#include <limits>
#include <set>

namespace preflab::core {

namespace {

constexpr LabelChoice kCategories[] = {LabelChoice::First, LabelChoice::Second, LabelChoice::Tie,
                                       LabelChoice::BothBad};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

} // namespace

AgreementSummary computeAgreement(const std::vector<LabelEvent> &decisions) {
  AgreementSummary out;
  std::map<std::int64_t, std::map<std::string, LabelChoice>> byItem;
  std::set<std::string> names;
  for (const auto &d : decisions)
    if (d.undoes == 0 && d.choice != LabelChoice::Skip) {
      byItem[d.item][d.annotator] = d.choice;
      names.insert(d.annotator);
    }
  // Per item.
  for (const auto &[item, votes] : byItem) {
    ItemAgreement a;
    a.item = item;
    a.annotators = int(votes.size());
    for (const auto &[name, c] : votes)
      ++a.votes[c];
    int best = 0, bestCount = 0;
    for (const auto &[c, n] : a.votes) {
      if (n > best) {
        best = n;
        a.majority = c;
        bestCount = 1;
      } else if (n == best) {
        ++bestCount;
      }
    }
    if (bestCount > 1)
      a.majority.reset();
    a.share = double(best) / double(a.annotators);
    out.items.push_back(std::move(a));
  }
  // Cohen's κ per pair of annotators, over the items both decided.
  const std::vector<std::string> list(names.begin(), names.end());
  for (std::size_t i = 0; i < list.size(); ++i)
    for (std::size_t j = i + 1; j < list.size(); ++j) {
      PairAgreement p;
      p.a = list[i];
      p.b = list[j];
      std::map<LabelChoice, double> ca, cb;
      double agree = 0;
      for (const auto &[item, votes] : byItem) {
        const auto x = votes.find(p.a), y = votes.find(p.b);
        if (x == votes.end() || y == votes.end())
          continue;
        ++p.items;
        agree += x->second == y->second;
        ++ca[x->second];
        ++cb[y->second];
      }
      if (p.items == 0)
        continue;
      const double n = p.items;
      p.observed = agree / n;
      double chance = 0;
      for (auto c : kCategories)
        chance += (ca[c] / n) * (cb[c] / n);
      p.cohenKappa = chance >= 1.0 ? kNaN : (p.observed - chance) / (1.0 - chance);
      out.pairs.push_back(p);
    }
  // Krippendorff's α (nominal) from the coincidence matrix of items with >= 2 decisions.
  std::map<std::pair<LabelChoice, LabelChoice>, double> o;
  std::map<LabelChoice, double> nc;
  double total = 0;
  for (const auto &[item, votes] : byItem) {
    const auto m = double(votes.size());
    if (votes.size() < 2)
      continue;
    ++out.itemsWithTwoOrMore;
    std::map<LabelChoice, double> count;
    for (const auto &[name, c] : votes)
      ++count[c];
    for (const auto &[c, nC] : count)
      for (const auto &[k, nK] : count)
        o[{c, k}] += (c == k ? nC * (nC - 1) : nC * nK) / (m - 1);
  }
  for (const auto &[ck, v] : o) {
    nc[ck.first] += v;
    total += v;
  }
  double disagree = 0, expected = 0;
  for (const auto &[ck, v] : o)
    if (ck.first != ck.second)
      disagree += v;
  for (const auto &[c, a] : nc)
    for (const auto &[k, b] : nc)
      if (c != k)
        expected += a * b;
  out.krippendorffAlpha = expected > 0 ? 1.0 - (total - 1.0) * disagree / expected : kNaN;
  // Fleiss' κ when every labelled item has the same number m >= 2 of decisions.
  std::set<std::size_t> counts;
  for (const auto &[item, votes] : byItem)
    counts.insert(votes.size());
  if (counts.size() == 1 && *counts.begin() >= 2) {
    const double m = double(*counts.begin()), items = double(byItem.size());
    double pBar = 0;
    std::map<LabelChoice, double> share;
    for (const auto &[item, votes] : byItem) {
      std::map<LabelChoice, double> count;
      for (const auto &[name, c] : votes)
        ++count[c];
      double squares = 0;
      for (const auto &[c, n] : count) {
        squares += n * n;
        share[c] += n / (items * m);
      }
      pBar += (squares - m) / (m * (m - 1)) / items;
    }
    double pe = 0;
    for (const auto &[c, p] : share)
      pe += p * p;
    out.fleissKappa = pe >= 1.0 ? kNaN : (pBar - pe) / (1.0 - pe);
  }
  return out;
}

} // namespace preflab::core
