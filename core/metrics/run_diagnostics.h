// Run diagnostics: flags common training pathologies from logged metric series (torch-free, Qt-free).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

// One logged value of a metric.
struct MetricPoint {
  std::int64_t step = 0;
  double value = 0.0;
};
using MetricSeries = std::vector<MetricPoint>; // ascending steps

// What the diagnostics look at. Series may be empty: a check whose series is missing or too short
// is skipped, never reported as a finding.
struct RunDiagnosticsInput {
  std::string objective = "dpo"; // registry name (loss_type)
  double beta = 0.1;             // on the objective's own scale
  MetricSeries loss;             // training loss per logging step
  MetricSeries logpsChosen;      // logps/chosen
  MetricSeries logpsRejected;    // logps/rejected
  MetricSeries accuracy;         // rewards/accuracies (or ranking/accuracy), one value per logged batch
  // Pairs behind one accuracy value: per_device_train_batch_size × gradient_accumulation_steps
  // (× world size). 0: unknown, then the granularity is inferred from the values themselves.
  std::int64_t pairsPerAccuracyValue = 0;
  // Image (diffusion) runs.
  MetricSeries implicitAccuracy; // implicit_acc: share of pairs the policy ranks as the data does
  MetricSeries mseModelW;        // mse/model_w: the policy's denoising error on preferred images
  MetricSeries mseModelL;        // mse/model_l: ... on rejected images
  MetricSeries mseRefW;          // mse/ref_w, mse/ref_l: the reference's on the same batches, so the
  MetricSeries mseRefL;          // batch-to-batch spread of the timesteps cancels out
};

enum class FindingSeverity { Info, Warning };

struct DiagnosticFinding {
  std::string id; // stable key: "loss-flat-ln2", "logps-falling-together", "coarse-accuracy",
                  // "beta-out-of-range", "unknown-objective"
  FindingSeverity severity = FindingSeverity::Info;
  std::string message; // one line, for a user
};

// Thresholds, in one place so that the tests and the documentation agree.
struct RunDiagnosticsThresholds {
  // Loss flat at ln 2. The first kWarmupFraction of the logged points are ignored; the window is
  // the last kWindowFraction of the points (at least kMinWindowPoints). Flagged when the window's
  // mean loss is within kLn2Tolerance of ln 2 and its least-squares trend (fitted change from the
  // window's first to its last step) is smaller than kFlatTrend in magnitude. Only for objectives
  // whose loss is a logistic function of a margin that starts at 0 (lossStartsAtLn2).
  static constexpr double kWarmupFraction = 0.2;
  static constexpr double kWindowFraction = 0.25;
  static constexpr std::size_t kMinWindowPoints = 5;
  static constexpr double kLn2Tolerance = 0.02;
  static constexpr double kFlatTrend = 0.01;
  // Chosen and rejected log-probs falling together (likelihood displacement): the means of the
  // first and the last kEdgeFraction of the points (at least kMinEdgePoints each, so at least
  // 2·kMinEdgePoints points) are compared. Flagged when both log-probs drop by more than
  // kMinRelativeDrop of their starting magnitude and by more than kMinAbsoluteDrop nats, while the
  // chosen-minus-rejected margin grows.
  static constexpr double kEdgeFraction = 0.2;
  static constexpr std::size_t kMinEdgePoints = 3;
  static constexpr double kMinRelativeDrop = 0.05;
  static constexpr double kMinAbsoluteDrop = 0.05;
  // Coarse accuracy: an accuracy over n pairs takes only n + 1 values (0, 1/n, ..., 1). Flagged
  // as a warning for n ≤ kCoarsePairs. With n unknown, n is inferred as the smallest denominator
  // ≤ kCoarsePairs that explains every value (within kGridTolerance), given at least
  // kMinAccuracyPoints values that are not all 0 or 1.
  static constexpr std::int64_t kCoarsePairs = 8;
  static constexpr double kGridTolerance = 1e-6;
  static constexpr std::size_t kMinAccuracyPoints = 5;
  // Implicit accuracy stuck near chance (image runs): after the warmup, the window's mean
  // implicit_acc is within kChanceTolerance of 0.5 and its fitted change is under kChanceTrend.
  static constexpr double kChanceTolerance = 0.05;
  static constexpr double kChanceTrend = 0.05;
  // Denoising errors rising together (image runs): the policy's error relative to the reference's
  // on the same batch (mse/model_x / mse/ref_x - 1) is compared between the first and last
  // kEdgeFraction of the points; flagged when it grows by more than kMinRelativeRise for both
  // preferred and rejected images.
  static constexpr double kMinRelativeRise = 0.05;
  // β out of range: outside the objective's [betaLow, betaHigh] when it has a range (text and
  // image objectives alike).
};

// Whether the objective's loss equals ln 2 when policy and reference agree (margin 0): the
// logistic (Bradley–Terry) losses dpo, cdpo, robust, rdpo, reward and diffusion-dpo. Not ipo (squared), hinge
// (1 at margin 0), simpo (target margin gamma), orpo (NLL added), kto (0.5 per example), sft.
bool lossStartsAtLn2(const std::string &objective);

// All findings for `input`, most important first. Never throws for odd input (NaN values are
// ignored); an unknown objective gives an "unknown-objective" info finding.
std::vector<DiagnosticFinding> diagnoseRun(const RunDiagnosticsInput &input);

// Fills the series of an input from metrics.jsonl records ({"step", "loss", "logps/chosen", ...,
// "implicit_acc", "mse/model_w", "mse/model_l"});
// records without "loss" (evaluation lines) are ignored. The accuracy series is
// "rewards/accuracies" when logged, else "ranking/accuracy". objective, beta and
// pairsPerAccuracyValue are left for the caller (they come from the run's config).
RunDiagnosticsInput diagnosticsInputFromRecords(const std::vector<nlohmann::json> &records);

} // namespace preflab::core
