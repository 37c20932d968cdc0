// The run-folder files the app and the CLI read back: status.json, metrics.jsonl lines,
// config.yaml, run_info.json, eval/summary.json and a sweep folder's sweep.json. The first byte
// picks the file.
#include "tests/fuzz/fuzz_common.h"

#include "core/api/run_reader.h"
#include "core/api/sweeps.h"

#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace preflab::core;
  if (size == 0)
    return 0;
  const std::string text(reinterpret_cast<const char *>(data + 1), size - 1);
  const auto dir = preflab::fuzz::scratchDir() + "/run";
  std::filesystem::create_directories(dir + "/eval");
  PREFLAB_FUZZ_BODY({
    switch (data[0] % 6) {
    case 0: (void)parseRunStatus(text); break;
    case 1: {
      std::string reason;
      (void)parseMetricsLine(text, &reason);
      break;
    }
    case 2: {
      std::string error;
      (void)flattenConfigYaml(text, &error);
      break;
    }
    case 3:
      preflab::fuzz::writeInput("run/run_info.json", data + 1, size - 1);
      (void)RunReader(dir).runInfo();
      break;
    case 5: // a sweep plan whose one point folder is the run above
      std::filesystem::create_directories(preflab::fuzz::scratchDir() + "/sweep");
      preflab::fuzz::writeInput("sweep/sweep.json", data + 1, size - 1);
      for (const auto &row : readSweepFolder(preflab::fuzz::scratchDir() + "/sweep"))
        (void)sweepRowJson(row).dump();
      break;
    default:
      preflab::fuzz::writeInput("run/eval/summary.json", data + 1, size - 1);
      (void)RunReader(dir).evalSummary().dump();
      preflab::fuzz::writeInput("run/metrics.jsonl", data + 1, size - 1);
      (void)RunReader(dir).metrics();
      break;
    }
  });
}
