// Names of run phases, shared by the run list, the status bar and tests.
#include "ui/training/run_types.h"

namespace preflab::ui {

QString runPhaseName(RunPhase phase) {
  switch (phase) {
  case RunPhase::Queued: return QStringLiteral("queued");
  case RunPhase::Running: return QStringLiteral("running");
  case RunPhase::Paused: return QStringLiteral("paused");
  case RunPhase::Finished: return QStringLiteral("finished");
  case RunPhase::Failed: return QStringLiteral("failed");
  case RunPhase::Cancelled: return QStringLiteral("cancelled");
  }
  return QStringLiteral("unknown");
}

bool isActive(RunPhase phase) {
  return phase == RunPhase::Queued || phase == RunPhase::Running || phase == RunPhase::Paused;
}

} // namespace preflab::ui
