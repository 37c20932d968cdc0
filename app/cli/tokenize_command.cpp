// preflab-cli tokenize: a tokenizer's ids for texts (or texts for ids), one JSON line per input.
#include "cli/cli_common.h"

#include "core/io/input_error.h"
#include "core/text/tokenizer_files.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace preflab::cli {

namespace {

std::string line(const nlohmann::json &j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::int64_t> idsOf(const nlohmann::json &j, const std::string &file, std::int64_t lineNo) {
  const auto &ids = j.is_object() && j.contains("ids") ? j["ids"] : j;
  if (!ids.is_array())
    throw core::InputError(file, lineNo, "ids", "expected {\"ids\": [...]} or a list of ids");
  std::vector<std::int64_t> out;
  for (const auto &id : ids) {
    if (!id.is_number_integer())
      throw core::InputError(file, lineNo, "ids", "every id must be an integer, got " + id.dump());
    out.push_back(id.get<std::int64_t>());
  }
  return out;
}

} // namespace

Action addTokenizeCommand(CLI::App &app) {
  auto *cmd = app.add_subcommand(
      "tokenize",
      "Token ids of texts with a model's tokenizer (tokenizer.json, tokenizer.model, vocab.json + "
      "merges.txt, or a model folder), or texts of ids with --decode. One JSON line per input: "
      "{\"ids\": [...]} (or {\"text\": ...}).");
  struct Args {
    std::string tokenizer, file;
    std::vector<std::string> texts;
    bool special = false, decode = false, skipSpecial = false, tokens = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--tokenizer", a->tokenizer, "tokenizer.json, tokenizer.model or a folder holding one")
      ->required();
  cmd->add_option("--file", a->file,
                  "JSONL input: {\"text\": ...} per line (with --decode: {\"ids\": [...]})");
  cmd->add_option("texts", a->texts, "texts to tokenize (with --decode: the ids of one sequence)");
  cmd->add_flag("--add-special-tokens", a->special,
                "add the tokenizer's special tokens (BOS, template) as "
                "its post-processor does");
  cmd->add_flag("--decode", a->decode, "ids in, text out");
  cmd->add_flag("--skip-special-tokens", a->skipSpecial,
                "with --decode: leave special tokens out of the text");
  cmd->add_flag("--tokens", a->tokens, "also print each id's token string");
  return [a]() -> int {
    if (a->file.empty() == a->texts.empty())
      throw core::InputError("give either --file or texts on the command line");
    const auto tokenizer = core::loadTokenizer(a->tokenizer);
    auto encodeLine = [&](const std::string &text) {
      const auto ids = a->special ? tokenizer->encodeWithSpecialTokens(text) : tokenizer->encode(text);
      nlohmann::json out = {{"ids", ids}};
      if (a->tokens) {
        auto &list = out["tokens"] = nlohmann::json::array();
        for (const auto id : ids)
          list.push_back(tokenizer->idToToken(id).value_or(""));
      }
      std::cout << line(out) << '\n';
    };
    auto decodeLine = [&](const std::vector<std::int64_t> &ids) {
      std::cout << line({{"text", tokenizer->decodeTokens(ids, a->skipSpecial)}}) << '\n';
    };
    if (a->file.empty()) {
      if (a->decode) {
        std::vector<std::int64_t> ids;
        for (const auto &t : a->texts)
          try {
            ids.push_back(std::stoll(t));
          } catch (const std::exception &) {
            throw core::InputError({}, 0, {}, "--decode takes integer ids, got '" + t + "'");
          }
        decodeLine(ids);
      } else {
        for (const auto &t : a->texts)
          encodeLine(t);
      }
      return kOk;
    }
    std::ifstream in(a->file, std::ios::binary);
    if (!in)
      throw core::InputError(a->file, 0, {}, "cannot open");
    std::string text;
    for (std::int64_t n = 1; std::getline(in, text); ++n) {
      if (!text.empty() && text.back() == '\r')
        text.pop_back();
      if (text.empty())
        throw core::InputError(
            a->file, n, {},
            "blank line: every line must be a JSON object (outputs stay in step with inputs)");
      const auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded())
        throw core::InputError(a->file, n, {}, "invalid JSON");
      if (a->decode) {
        decodeLine(idsOf(j, a->file, n));
      } else {
        if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
          throw core::InputError(a->file, n, "text", "expected {\"text\": \"...\"}");
        encodeLine(j["text"].get<std::string>());
      }
    }
    std::cout.flush();
    return kOk;
  };
}

} // namespace preflab::cli
