// Tokenizer benchmark: PrefLab's tokenizer.json implementation over a file of texts, one thread.
// Prints one JSON line: texts, bytes, tokens, the median seconds of --rounds passes over all
// texts, MB/s and tokens/s. Loading the tokenizer is timed separately (load_s).
#include "core/io/gzip_input.h"
#include "core/text/tokenizer_files.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <sstream>

int main(int argc, char **argv) {
  CLI::App app{"Tokenize every {\"text\": ...} line of a JSONL file, timed."};
  std::string tokenizerPath, textsPath;
  int rounds = 5;
  app.add_option("--tokenizer", tokenizerPath)->required();
  app.add_option("--texts", textsPath, "JSONL of {\"text\": ...}, plain or gzip")->required();
  app.add_option("--rounds", rounds);
  CLI11_PARSE(app, argc, argv);
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  const auto t0 = Clock::now();
  const auto tokenizer = preflab::core::loadTokenizer(tokenizerPath);
  const double loadSeconds = seconds(t0, Clock::now());
  std::vector<std::string> texts;
  std::istringstream in(preflab::core::readPossiblyCompressedFile(textsPath));
  std::size_t bytes = 0;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) {
      texts.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
      bytes += texts.back().size();
    }
  std::vector<double> times;
  std::size_t tokens = 0;
  for (int r = 0; r < rounds; ++r) {
    tokens = 0;
    const auto start = Clock::now();
    for (const auto &t : texts)
      tokens += tokenizer->encode(t).size();
    times.push_back(seconds(start, Clock::now()));
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  std::cout << nlohmann::json{{"impl", "preflab"},
                              {"texts", texts.size()},
                              {"bytes", bytes},
                              {"tokens", tokens},
                              {"seconds", median},
                              {"load_s", loadSeconds},
                              {"mb_per_s", double(bytes) / 1e6 / median},
                              {"tokens_per_s", double(tokens) / median}}
                   .dump()
            << std::endl;
}
