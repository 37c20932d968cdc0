// Run diagnostics: loss flat at ln 2, falling log-probs, coarse accuracy, β out of range; for image
// runs implicit accuracy at chance and denoising errors rising together.
#include "core/metrics/run_diagnostics.h"

#include "core/objectives/objective_info.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace preflab::core {

namespace {

using T = RunDiagnosticsThresholds;

std::string format(const char *fmt, double a, double b = 0, double c = 0, double d = 0) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, fmt, a, b, c, d);
  return buffer;
}

MetricSeries finite(const MetricSeries &series) {
  MetricSeries out;
  for (const MetricPoint &p : series)
    if (std::isfinite(p.value))
      out.push_back(p);
  return out;
}

double mean(MetricSeries::const_iterator first, MetricSeries::const_iterator last) {
  double sum = 0;
  for (auto it = first; it != last; ++it)
    sum += it->value;
  return sum / double(std::distance(first, last));
}

// Least-squares slope × (last step − first step): the fitted change over the window.
double fittedChange(MetricSeries::const_iterator first, MetricSeries::const_iterator last) {
  const double n = double(std::distance(first, last));
  double sx = 0, sy = 0;
  for (auto it = first; it != last; ++it) {
    sx += double(it->step);
    sy += it->value;
  }
  const double mx = sx / n, my = sy / n;
  double sxx = 0, sxy = 0;
  for (auto it = first; it != last; ++it) {
    sxx += (double(it->step) - mx) * (double(it->step) - mx);
    sxy += (double(it->step) - mx) * (it->value - my);
  }
  if (sxx <= 0)
    return 0;
  return sxy / sxx * double((last - 1)->step - first->step);
}

std::optional<DiagnosticFinding> checkLossFlat(const RunDiagnosticsInput &in) {
  if (!lossStartsAtLn2(in.objective))
    return std::nullopt;
  const MetricSeries loss = finite(in.loss);
  const auto warmup = std::size_t(std::ceil(T::kWarmupFraction * double(loss.size())));
  const std::size_t usable = loss.size() - std::min(warmup, loss.size());
  const std::size_t window =
      std::max(T::kMinWindowPoints, std::size_t(std::ceil(T::kWindowFraction * double(loss.size()))));
  if (usable < window)
    return std::nullopt;
  const auto first = loss.end() - std::ptrdiff_t(window);
  const double m = mean(first, loss.end());
  const double change = fittedChange(first, loss.end());
  if (std::abs(m - std::log(2.0)) > T::kLn2Tolerance || std::abs(change) > T::kFlatTrend)
    return std::nullopt;
  return DiagnosticFinding{
      "loss-flat-ln2", FindingSeverity::Warning,
      format("Loss is flat at ln 2 (mean %.3f over the last %.0f logged steps): the policy is not "
             "separating chosen from rejected; check the learning rate, beta and the data.",
             m, double(window))};
}

std::optional<DiagnosticFinding> checkLogpsFalling(const RunDiagnosticsInput &in) {
  const MetricSeries chosen = finite(in.logpsChosen), rejected = finite(in.logpsRejected);
  const std::size_t n = std::min(chosen.size(), rejected.size());
  const std::size_t edge = std::max(T::kMinEdgePoints, std::size_t(std::ceil(T::kEdgeFraction * double(n))));
  if (n < 2 * edge)
    return std::nullopt;
  auto drop = [&](const MetricSeries &s) {
    return mean(s.begin(), s.begin() + std::ptrdiff_t(edge)) - mean(s.end() - std::ptrdiff_t(edge), s.end());
  };
  auto clearDrop = [&](const MetricSeries &s, double d) {
    const double start = std::abs(mean(s.begin(), s.begin() + std::ptrdiff_t(edge)));
    return d > T::kMinAbsoluteDrop && d > T::kMinRelativeDrop * start;
  };
  const double dc = drop(chosen), dr = drop(rejected);
  // The margin chosen − rejected grows exactly when rejected falls further than chosen.
  if (!clearDrop(chosen, dc) || !clearDrop(rejected, dr) || dr <= dc)
    return std::nullopt;
  return DiagnosticFinding{
      "logps-falling-together", FindingSeverity::Warning,
      format("Chosen and rejected log-probs both fall (by %.2f and %.2f nats) while the margin "
             "grows: likelihood displacement; the policy moves mass away from both responses.",
             dc, dr)};
}

// Smallest n ≤ kCoarsePairs such that every value is k/n; 0 when none (or too little evidence).
std::int64_t inferAccuracyGrid(const MetricSeries &accuracy) {
  if (accuracy.size() < T::kMinAccuracyPoints)
    return 0;
  const bool allExtreme = std::all_of(accuracy.begin(), accuracy.end(), [](const MetricPoint &p) {
    return std::abs(p.value) < T::kGridTolerance || std::abs(p.value - 1) < T::kGridTolerance;
  });
  if (allExtreme)
    return 0;
  for (std::int64_t n = 2; n <= T::kCoarsePairs; ++n) {
    const bool fits = std::all_of(accuracy.begin(), accuracy.end(), [n](const MetricPoint &p) {
      const double k = p.value * double(n);
      return std::abs(k - std::round(k)) < T::kGridTolerance * double(n);
    });
    if (fits)
      return n;
  }
  return 0;
}

std::optional<DiagnosticFinding> checkCoarseAccuracy(const RunDiagnosticsInput &in) {
  const MetricSeries accuracy = finite(in.accuracy);
  if (accuracy.empty())
    return std::nullopt;
  std::int64_t n = in.pairsPerAccuracyValue;
  const bool inferred = n <= 0;
  if (inferred)
    n = inferAccuracyGrid(accuracy);
  if (n <= 0 || n > T::kCoarsePairs)
    return std::nullopt;
  return DiagnosticFinding{
      "coarse-accuracy", FindingSeverity::Warning,
      format("Accuracy is computed over %.0f pairs per logged batch", double(n)) +
          (inferred ? " (inferred from its values)" : "") +
          format(", so it can take only %.0f values (steps of %.3f); read its curve smoothed or "
                 "evaluate on more pairs.",
                 double(n + 1), 1.0 / double(n))};
}

std::optional<DiagnosticFinding> checkImplicitAccuracy(const RunDiagnosticsInput &in) {
  const MetricSeries acc = finite(in.implicitAccuracy);
  const auto warmup = std::size_t(std::ceil(T::kWarmupFraction * double(acc.size())));
  const std::size_t usable = acc.size() - std::min(warmup, acc.size());
  const std::size_t window =
      std::max(T::kMinWindowPoints, std::size_t(std::ceil(T::kWindowFraction * double(acc.size()))));
  if (usable < window)
    return std::nullopt;
  const auto first = acc.end() - std::ptrdiff_t(window);
  const double m = mean(first, acc.end());
  if (std::abs(m - 0.5) > T::kChanceTolerance || std::abs(fittedChange(first, acc.end())) > T::kChanceTrend)
    return std::nullopt;
  return DiagnosticFinding{
      "implicit-acc-chance", FindingSeverity::Warning,
      format("Implicit accuracy is stuck near 0.5 (mean %.3f over the last %.0f logged steps): the "
             "policy does not yet rank the pairs as the labels do; raise beta or the learning rate, or "
             "check the labels.",
             m, double(window))};
}

// mse/model / mse/ref - 1 per step where both are logged: how much worse than the reference.
MetricSeries relativeGap(const MetricSeries &model, const MetricSeries &ref) {
  MetricSeries out;
  std::size_t j = 0;
  for (const MetricPoint &p : model) {
    while (j < ref.size() && ref[j].step < p.step)
      ++j;
    if (j < ref.size() && ref[j].step == p.step && ref[j].value > 0)
      out.push_back({p.step, p.value / ref[j].value - 1.0});
  }
  return out;
}

std::optional<DiagnosticFinding> checkMseRising(const RunDiagnosticsInput &in) {
  const MetricSeries w = relativeGap(finite(in.mseModelW), finite(in.mseRefW));
  const MetricSeries l = relativeGap(finite(in.mseModelL), finite(in.mseRefL));
  const std::size_t n = std::min(w.size(), l.size());
  const std::size_t edge = std::max(T::kMinEdgePoints, std::size_t(std::ceil(T::kEdgeFraction * double(n))));
  if (n < 2 * edge)
    return std::nullopt;
  auto rise = [&](const MetricSeries &s) {
    return mean(s.end() - std::ptrdiff_t(edge), s.end()) - mean(s.begin(), s.begin() + std::ptrdiff_t(edge));
  };
  const double rw = rise(w), rl = rise(l);
  if (rw <= T::kMinRelativeRise || rl <= T::kMinRelativeRise)
    return std::nullopt;
  return DiagnosticFinding{
      "mse-rising-together", FindingSeverity::Warning,
      format("The policy's denoising error rises against the reference's on both preferred and rejected "
             "images (by %.0f%% and %.0f%% of it): it is drifting from the data, not only separating the "
             "pair; lower the learning rate or raise beta.",
             100 * rw, 100 * rl)};
}

std::optional<DiagnosticFinding> checkBeta(const RunDiagnosticsInput &in, const ObjectiveInfo &info) {
  if (!(info.betaHigh() > info.betaLow()))
    return std::nullopt; // β unused by this objective
  if (std::isfinite(in.beta) && in.beta >= info.betaLow() && in.beta <= info.betaHigh())
    return std::nullopt;
  return DiagnosticFinding{"beta-out-of-range", FindingSeverity::Warning,
                           "beta = " + format("%g", in.beta) + " is outside the usual range [" +
                               format("%g", info.betaLow()) + ", " + format("%g", info.betaHigh()) +
                               "] for " + info.title + " (beta is the " + info.betaMeaning() + ")."};
}

} // namespace

bool lossStartsAtLn2(const std::string &objective) {
  const ObjectiveInfo *info = findObjectiveInfo(objective);
  return info && info->startsAtLn2;
}

std::vector<DiagnosticFinding> diagnoseRun(const RunDiagnosticsInput &input) {
  std::vector<DiagnosticFinding> findings;
  const ObjectiveInfo *info = findObjectiveInfo(input.objective);
  if (!info)
    findings.push_back(
        {"unknown-objective", FindingSeverity::Info,
         "Objective '" + input.objective + "' is not registered: the loss and beta checks were skipped."});
  auto add = [&](std::optional<DiagnosticFinding> f) {
    if (f)
      findings.push_back(std::move(*f));
  };
  if (info && info->kind != ObjectiveKind::Sft)
    add(checkLossFlat(input));
  add(checkLogpsFalling(input));
  add(checkCoarseAccuracy(input));
  if (info && info->kind != ObjectiveKind::Sft)
    add(checkImplicitAccuracy(input));
  add(checkMseRising(input));
  if (info)
    add(checkBeta(input, *info));
  return findings;
}

RunDiagnosticsInput diagnosticsInputFromRecords(const std::vector<nlohmann::json> &records) {
  RunDiagnosticsInput in;
  bool rewardsAccuracy = false;
  for (const nlohmann::json &r : records)
    if (r.is_object() && r.contains("loss") && r.contains("rewards/accuracies"))
      rewardsAccuracy = true;
  const char *accuracyKey = rewardsAccuracy ? "rewards/accuracies" : "ranking/accuracy";
  for (const nlohmann::json &r : records) {
    if (!r.is_object() || !r.contains("loss") || !r.contains("step") || !r["step"].is_number())
      continue;
    const auto step = r["step"].get<std::int64_t>();
    auto take = [&](const char *key, MetricSeries &into) {
      auto it = r.find(key);
      if (it != r.end() && it->is_number())
        into.push_back({step, it->get<double>()});
    };
    take("loss", in.loss);
    take("logps/chosen", in.logpsChosen);
    take("logps/rejected", in.logpsRejected);
    take(accuracyKey, in.accuracy);
    take("implicit_acc", in.implicitAccuracy);
    take("mse/model_w", in.mseModelW);
    take("mse/model_l", in.mseModelL);
    take("mse/ref_w", in.mseRefW);
    take("mse/ref_l", in.mseRefL);
  }
  return in;
}

} // namespace preflab::core
