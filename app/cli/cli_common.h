// Shared pieces of preflab-cli: command registration, exit codes, progress printing.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

namespace preflab::cli {

enum ExitCode { kOk = 0, kFailure = 1, kUsage = 2 };

// Each command adds its subcommand to `app` and returns the action to run when it was chosen.
using Action = std::function<int()>;
Action addTrainCommand(CLI::App &app);
Action addEvalCommand(CLI::App &app);
Action addAnalyzeCommand(CLI::App &app);
Action addSampleCommand(CLI::App &app);
Action addExportCommand(CLI::App &app);
Action addInspectCommand(CLI::App &app);
Action addTokenizeCommand(CLI::App &app);
Action addObjectivesCommand(CLI::App &app);
Action addMixCommand(CLI::App &app);
Action addSweepCommand(CLI::App &app);
Action addPretrainDiffusionCommand(CLI::App &app);
Action addTrainOracleCommand(CLI::App &app);
Action addGeneratePairsCommand(CLI::App &app);
Action addLabelsCommand(CLI::App &app);

// Progress on stderr: rewrites one line on a terminal, prints a line per 10% otherwise.
class ProgressLine {
public:
  void update(const std::string &stage, double fraction, const std::string &detail = {});
  void finish();

private:
  bool m_tty = false;
  bool m_checked = false;
  bool m_open = false;
  std::string m_stage;
  int m_lastDecile = -1;
};

// Runs `body`, printing "error: <message>" and returning kFailure for any exception.
int guarded(const std::function<int()> &body);

// Checks for numeric options whose messages name the value and the bound in plain words (CLI11's
// own print the bound as a 300-digit number).
extern const CLI::Validator kPositive;    // > 0
extern const CLI::Validator kNonNegative; // >= 0

// An exception's message without the stack trace LibTorch appends to its errors.
std::string messageWithoutBacktrace(const std::string &what);

} // namespace preflab::cli
