// Per-record parsing of the text preference formats; used by the JSONL reader (internal to core).
#pragma once

#include "core/data/text_example.h"
#include "core/data/text_preference_reader.h"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace preflab::core {

// Parses one record of a paired format (every TextFormat except Auto and KtoUnpaired).
// `line` fills TextPair::line and is the fallback id. Throws InputError carrying only the key
// and the problem; the reader adds the file and the line.
TextPair parsePairRecord(const nlohmann::json &record, TextFormat format, std::int64_t line);

// Parses one KTO record ({"prompt","completion","label"}, optional "ref_logps"). Throws like
// parsePairRecord.
UnpairedExample parseUnpairedRecord(const nlohmann::json &record, std::int64_t line);

} // namespace preflab::core
