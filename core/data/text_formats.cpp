// Parses single records of the text preference formats and renders chat messages as transcripts.
#include "core/data/text_formats.h"

#include "core/io/input_error.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace preflab::core {

using nlohmann::json;

namespace {

// Conversational prompts end with this tag and HH-RLHF prompts are cut right after its last use.
constexpr const char *kAssistantTag = "\n\nAssistant:";
// Error messages quote a wrong value only this far: a misplaced document must not flood the log.
constexpr std::size_t kShownValueBytes = 40;

[[noreturn]] void fail(const std::string &key, const std::string &message) {
  throw InputError({}, 0, key, message);
}

// "null", "array", or the type and a short form of the value: number 42, string "five".
std::string describe(const json &value) {
  if (value.is_null() || value.is_structured())
    return value.type_name();
  std::string shown = value.dump();
  if (shown.size() > kShownValueBytes) {
    std::size_t cut = kShownValueBytes;
    while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80)
      --cut; // never split a UTF-8 sequence
    shown = shown.substr(0, cut) + "...";
  }
  return std::string(value.type_name()) + " " + shown;
}

const json &require(const json &record, const std::string &key) {
  auto it = record.find(key);
  if (it == record.end())
    fail(key, "missing");
  return *it;
}

std::string requireString(const json &record, const std::string &key) {
  const json &value = require(record, key);
  if (!value.is_string())
    fail(key, "expected a string, got " + describe(value));
  return value.get<std::string>();
}

// The key's value, or nullptr when it is absent or null (exported datasets write null for "none").
const json *optionalValue(const json &record, const std::string &key) {
  auto it = record.find(key);
  return it == record.end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> optionalNumber(const json &record, const std::string &key) {
  const json *value = optionalValue(record, key);
  if (!value)
    return std::nullopt;
  if (!value->is_number())
    fail(key, "expected a number, got " + describe(*value));
  const double number = value->get<double>();
  if (!std::isfinite(number))
    fail(key, "expected a finite number");
  return number;
}

// A log-prob sum: finite and at most 0 (a positive one is no probability).
std::optional<double> optionalLogp(const json &record, const std::string &key) {
  const std::optional<double> number = optionalNumber(record, key);
  if (number && *number > 1e-6)
    fail(key, "is " + json(*number).dump() + ", a log-probability must be <= 0");
  return number;
}

double requireNumber(const json &record, const std::string &key) {
  require(record, key);
  const std::optional<double> number = optionalNumber(record, key);
  if (!number)
    fail(key, "expected a number, got null");
  return *number;
}

// "rater_fraction" wins over its alias "alpha" when both are present.
std::optional<double> raterFraction(const json &record) {
  const std::string key = optionalValue(record, "rater_fraction") ? "rater_fraction" : "alpha";
  const std::optional<double> fraction = optionalNumber(record, key);
  if (fraction && (*fraction < 0.0 || *fraction > 1.0))
    fail(key, "expected a fraction in [0, 1], got " + record.at(key).dump());
  return fraction;
}

// Whole floats (3.0, as pandas writes integer columns with gaps) are accepted as counts.
std::optional<int> raterCount(const json &record) {
  const std::optional<double> count = optionalNumber(record, "rater_count");
  if (!count)
    return std::nullopt;
  if (*count != std::floor(*count) || *count < 1.0 || *count > double(INT_MAX))
    fail("rater_count", "expected a positive integer, got " + record.at("rater_count").dump());
  return static_cast<int>(*count);
}

std::string recordId(const json &record, std::int64_t line) {
  for (const char *key : {"id", "prompt_id"}) {
    const json *value = optionalValue(record, key);
    if (value && value->is_string() && !value->get_ref<const std::string &>().empty())
      return value->get<std::string>();
    if (value && value->is_number())
      return value->dump();
  }
  return std::to_string(line);
}

std::string messageField(const json &message, const std::string &path, const char *field) {
  const auto it = message.find(field);
  if (it == message.end())
    fail(path + "." + field, "missing");
  if (!it->is_string())
    fail(path + "." + field, "expected a string, got " + describe(*it));
  return it->get<std::string>();
}

std::vector<ChatMessage> parseMessages(const json &value, const std::string &key) {
  if (!value.is_array())
    fail(key, "expected a list of messages, got " + describe(value));
  std::vector<ChatMessage> messages;
  messages.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string path = key + "[" + std::to_string(i) + "]";
    if (!value[i].is_object())
      fail(path, "expected a message object {\"role\", \"content\"}, got " + describe(value[i]));
    ChatMessage message{messageField(value[i], path, "role"), messageField(value[i], path, "content")};
    if (message.role.empty())
      fail(path + ".role", "empty role");
    messages.push_back(std::move(message));
  }
  return messages;
}

bool sameMessage(const ChatMessage &a, const ChatMessage &b) {
  return a.role == b.role && a.content == b.content;
}

bool isAssistant(const std::string &role) {
  std::string lower;
  for (char c : role)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "assistant";
}

// Renders the messages that answer `prompt` as the continuation of the prompt's trailing
// "\n\nAssistant:". A list that repeats the prompt messages first has them dropped. Later turns
// (a multi-turn response) stay in transcript form, so prompt ⊕ response is the whole dialogue;
// concatenating only the assistant contents was rejected because it silently drops user turns.
std::string renderResponse(const std::vector<ChatMessage> &prompt, const std::vector<ChatMessage> &messages,
                           const std::string &key) {
  const bool repeatsPrompt = !prompt.empty() && messages.size() >= prompt.size() &&
                             std::equal(prompt.begin(), prompt.end(), messages.begin(), sameMessage);
  const std::size_t first = repeatsPrompt ? prompt.size() : 0;
  if (first == messages.size())
    fail(key, "no response message after the prompt");
  if (!isAssistant(messages[first].role)) {
    const bool hint = first == 0 && !prompt.empty();
    fail(key + "[" + std::to_string(first) + "].role",
         "the response must start with an assistant message, got '" + messages[first].role + "'" +
             (hint ? " (the list does not repeat the prompt messages exactly)" : ""));
  }
  const std::vector<ChatMessage> rest(messages.begin() + std::ptrdiff_t(first) + 1, messages.end());
  return " " + messages[first].content + renderConversation(rest);
}

std::vector<ChatMessage> promptMessages(const json &record) {
  std::vector<ChatMessage> prompt = parseMessages(require(record, "prompt"), "prompt");
  if (prompt.empty())
    fail("prompt", "empty message list");
  return prompt;
}

// The answer messages of a side, without the prompt messages a list may repeat first.
std::vector<ChatMessage> answerMessages(const std::vector<ChatMessage> &prompt,
                                        const std::vector<ChatMessage> &messages) {
  const bool repeats = !prompt.empty() && messages.size() >= prompt.size() &&
                       std::equal(prompt.begin(), prompt.end(), messages.begin(), sameMessage);
  return repeats ? std::vector<ChatMessage>(messages.begin() + std::ptrdiff_t(prompt.size()), messages.end())
                 : messages;
}

void keepMessages(const std::vector<ChatMessage> &prompt, const std::vector<ChatMessage> &chosen,
                  const std::vector<ChatMessage> &rejected, TextPair &pair) {
  pair.messages = PairMessages{prompt, answerMessages(prompt, chosen), answerMessages(prompt, rejected)};
}

void parseStandard(const json &record, TextPair &pair) {
  pair.prompt = requireString(record, "prompt");
  pair.chosen = requireString(record, "chosen");
  pair.rejected = requireString(record, "rejected");
}

void parseConversational(const json &record, TextPair &pair) {
  const std::vector<ChatMessage> prompt = promptMessages(record);
  const auto chosen = parseMessages(require(record, "chosen"), "chosen");
  const auto rejected = parseMessages(require(record, "rejected"), "rejected");
  pair.prompt = renderConversation(prompt) + kAssistantTag;
  pair.chosen = renderResponse(prompt, chosen, "chosen");
  pair.rejected = renderResponse(prompt, rejected, "rejected");
  keepMessages(prompt, chosen, rejected, pair);
}

void parseHhRlhf(const json &record, TextPair &pair) {
  const std::string chosen = requireString(record, "chosen");
  const std::string rejected = requireString(record, "rejected");
  const std::size_t tag = chosen.rfind(kAssistantTag);
  if (tag == std::string::npos)
    fail("chosen", "the transcript has no \"\\n\\nAssistant:\" turn");
  const std::size_t tagLength = std::char_traits<char>::length(kAssistantTag);
  std::size_t end = tag + tagLength;
  // Either side's own prompt (its text up to its own last tag) may be longer: flag both cases.
  const std::size_t rejectedTag = rejected.rfind(kAssistantTag);
  const bool samePrompt = rejectedTag == tag && rejected.compare(0, end, chosen, 0, end) == 0;
  if (!samePrompt && rejected.compare(0, end, chosen, 0, end) == 0)
    pair.promptFromCommonPrefix = true; // rejected has an extra turn after the chosen's prompt
  if (rejected.compare(0, end, chosen, 0, end) != 0) {
    // One side has an extra turn: the prompt is what both share, up to the last assistant tag
    // inside that shared text; the rest of each side (further turns included) is its response.
    const auto common =
        std::size_t(std::mismatch(chosen.begin(),
                                  chosen.begin() + std::ptrdiff_t(std::min(chosen.size(), rejected.size())),
                                  rejected.begin())
                        .first -
                    chosen.begin());
    const std::size_t shared =
        common >= tagLength ? chosen.rfind(kAssistantTag, common - tagLength) : std::string::npos;
    if (shared == std::string::npos)
      fail("rejected",
           "shares no \"\\n\\nAssistant:\" turn with the chosen transcript: there is no common prompt");
    end = shared + tagLength;
    pair.promptFromCommonPrefix = true;
  }
  pair.prompt = chosen.substr(0, end);
  pair.chosen = chosen.substr(end);
  pair.rejected = rejected.substr(end);
}

// ---- Layouts seen in the wild (LLaMA-Factory, OpenAI, TRL's implicit prompt). ----

// ShareGPT's speaker names as the roles the rest of PrefLab uses.
std::string roleFromSpeaker(const std::string &from) {
  if (from == "human")
    return "user";
  if (from == "gpt")
    return "assistant";
  return from; // system, observation, function_call, or already a role
}

// A message's text: a string, or a list of parts of which only {"type": "text"} are taken, each
// with its "value" (LLaMA-Factory v1) or "text" (OpenAI); other parts are refused by name.
std::string messageText(const json &content, const std::string &path) {
  if (content.is_string())
    return content.get<std::string>();
  if (!content.is_array())
    fail(path, "expected a string or a list of content parts, got " + describe(content));
  std::string text;
  for (std::size_t i = 0; i < content.size(); ++i) {
    const auto partPath = path + "[" + std::to_string(i) + "]";
    const json &part = content[i];
    if (!part.is_object())
      fail(partPath, "expected a content part object, got " + describe(part));
    const auto type = part.find("type");
    if (type != part.end() && !(type->is_string() && *type == "text"))
      fail(partPath + ".type", "only text parts can be trained on, got " + describe(*type));
    const char *field = part.contains("value") ? "value" : "text";
    text += messageField(part, partPath, field);
  }
  return text;
}

// One message in any of the layouts: {"role","content"} or {"from","value"}.
ChatMessage parseLooseMessage(const json &m, const std::string &path) {
  if (!m.is_object())
    fail(path, "expected a message object, got " + describe(m));
  ChatMessage message;
  if (m.contains("from"))
    message.role = roleFromSpeaker(messageField(m, path, "from"));
  else
    message.role = messageField(m, path, "role");
  if (message.role.empty())
    fail(path + ".role", "empty role");
  const char *field = m.contains("value") && !m.contains("content") ? "value" : "content";
  const auto it = m.find(field);
  if (it == m.end())
    fail(path + "." + field, "missing");
  message.content = messageText(*it, path + "." + field);
  return message;
}

std::vector<ChatMessage> parseLooseMessages(const json &value, const std::string &key) {
  if (!value.is_array())
    fail(key, "expected a list of messages, got " + describe(value));
  std::vector<ChatMessage> messages;
  for (std::size_t i = 0; i < value.size(); ++i)
    messages.push_back(parseLooseMessage(value[i], key + "[" + std::to_string(i) + "]"));
  return messages;
}

// Two whole conversations: the prompt is their longest common run of messages that ends just
// before an assistant message in both; each side's response is the rest.
void splitConversations(const std::vector<ChatMessage> &chosen, const std::vector<ChatMessage> &rejected,
                        const std::string &chosenKey, const std::string &rejectedKey, TextPair &pair) {
  std::size_t n = 0;
  while (n < chosen.size() && n < rejected.size() && sameMessage(chosen[n], rejected[n]))
    ++n;
  while (n > 0 && !(n < chosen.size() && n < rejected.size() && isAssistant(chosen[n].role) &&
                    isAssistant(rejected[n].role)))
    --n;
  if (n == 0)
    fail(chosenKey, "shares no prompt messages with " + rejectedKey +
                        " (the prompt is their common beginning, up to an assistant turn)");
  const std::vector<ChatMessage> prompt(chosen.begin(), chosen.begin() + std::ptrdiff_t(n));
  pair.prompt = renderConversation(prompt) + kAssistantTag;
  pair.chosen = renderResponse(prompt, chosen, chosenKey);
  pair.rejected = renderResponse(prompt, rejected, rejectedKey);
  keepMessages(prompt, chosen, rejected, pair);
}

void parseImplicitPrompt(const json &record, TextPair &pair) {
  splitConversations(parseLooseMessages(require(record, "chosen"), "chosen"),
                     parseLooseMessages(require(record, "rejected"), "rejected"), "chosen", "rejected", pair);
}

void parseLlamaFactoryV1(const json &record, TextPair &pair) {
  splitConversations(parseLooseMessages(require(record, "chosen_messages"), "chosen_messages"),
                     parseLooseMessages(require(record, "rejected_messages"), "rejected_messages"),
                     "chosen_messages", "rejected_messages", pair);
}

// A prompt conversation followed by one answer per side.
void promptAndAnswers(const std::vector<ChatMessage> &prompt, std::vector<ChatMessage> chosen,
                      std::vector<ChatMessage> rejected, const std::string &promptKey,
                      const std::string &chosenKey, const std::string &rejectedKey, TextPair &pair) {
  if (prompt.empty())
    fail(promptKey, "empty message list");
  pair.prompt = renderConversation(prompt) + kAssistantTag;
  pair.chosen = renderResponse(prompt, chosen, chosenKey);
  pair.rejected = renderResponse(prompt, rejected, rejectedKey);
  keepMessages(prompt, chosen, rejected, pair);
}

void parseShareGpt(const json &record, TextPair &pair) {
  promptAndAnswers(parseLooseMessages(require(record, "conversations"), "conversations"),
                   {parseLooseMessage(require(record, "chosen"), "chosen")},
                   {parseLooseMessage(require(record, "rejected"), "rejected")}, "conversations", "chosen",
                   "rejected", pair);
}

void parseOpenAiDpo(const json &record, TextPair &pair) {
  const json &input = require(record, "input");
  if (!input.is_object())
    fail("input", "expected an object with \"messages\", got " + describe(input));
  promptAndAnswers(parseLooseMessages(require(input, "messages"), "input.messages"),
                   parseLooseMessages(require(record, "preferred_output"), "preferred_output"),
                   parseLooseMessages(require(record, "non_preferred_output"), "non_preferred_output"),
                   "input.messages", "preferred_output", "non_preferred_output", pair);
}

void parseAlpaca(const json &record, TextPair &pair) {
  std::string instruction = requireString(record, "instruction");
  const json *input = optionalValue(record, "input");
  if (input && !input->is_string())
    fail("input", "expected a string, got " + describe(*input));
  if (input && !input->get_ref<const std::string &>().empty())
    instruction += "\n\n" + input->get<std::string>();
  const std::vector<ChatMessage> prompt{{"user", instruction}};
  pair.prompt = renderConversation(prompt) + kAssistantTag;
  pair.chosen = " " + requireString(record, "chosen");
  pair.rejected = " " + requireString(record, "rejected");
}

void parseUltraFeedback(const json &record, TextPair &pair) {
  const std::vector<ChatMessage> prompt{{"user", requireString(record, "prompt")}};
  const auto chosen = parseMessages(require(record, "chosen"), "chosen");
  const auto rejected = parseMessages(require(record, "rejected"), "rejected");
  pair.prompt = renderConversation(prompt) + kAssistantTag;
  pair.chosen = renderResponse(prompt, chosen, "chosen");
  pair.rejected = renderResponse(prompt, rejected, "rejected");
  keepMessages(prompt, chosen, rejected, pair);
  requireNumber(record, "score_chosen");
  requireNumber(record, "score_rejected");
}

// Reference log-probs come as a pair: one without the other cannot feed a paired objective.
void readPairExtras(const json &record, TextPair &pair) {
  pair.raterFraction = raterFraction(record);
  pair.raterCount = raterCount(record);
  pair.scoreChosen = optionalNumber(record, "score_chosen");
  pair.scoreRejected = optionalNumber(record, "score_rejected");
  pair.refChosenLogp = optionalLogp(record, "ref_chosen_logps");
  pair.refRejectedLogp = optionalLogp(record, "ref_rejected_logps");
  if (pair.refChosenLogp.has_value() != pair.refRejectedLogp.has_value()) {
    const bool chosenOnly = pair.refChosenLogp.has_value();
    fail(chosenOnly ? "ref_rejected_logps" : "ref_chosen_logps",
         std::string("missing while '") + (chosenOnly ? "ref_chosen_logps" : "ref_rejected_logps") +
             "' is given");
  }
}

const json &requireTextOrMessages(const json &record, const std::string &key) {
  const json &value = require(record, key);
  if (!value.is_string() && !value.is_array())
    fail(key, "expected a string or a list of messages, got " + describe(value));
  return value;
}

void requireObject(const json &record) {
  if (!record.is_object())
    fail({}, "expected a JSON object, got " + describe(record));
}

} // namespace

std::string renderConversation(const std::vector<ChatMessage> &messages) {
  std::string out;
  for (const ChatMessage &message : messages) {
    std::string role = message.role;
    if (!role.empty())
      role[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(role[0])));
    out += "\n\n" + role + ": " + message.content;
  }
  return out;
}

TextFormat detectTextFormat(const json &record) {
  requireObject(record);
  if (record.contains("completion") && record.contains("label"))
    return TextFormat::KtoUnpaired;
  if (record.contains("messages") && record.contains("label"))
    return TextFormat::KtoMessages;
  if (record.contains("chosen_messages") && record.contains("rejected_messages"))
    return TextFormat::LlamaFactoryV1;
  if (record.contains("preferred_output") && record.contains("non_preferred_output"))
    return TextFormat::OpenAiDpo;
  if (!record.contains("chosen") || !record.contains("rejected"))
    fail({}, "the record matches no known format: expected the keys {prompt, chosen, rejected}, "
             "{chosen, rejected}, {conversations, chosen, rejected}, {instruction, chosen, rejected}, "
             "{chosen_messages, rejected_messages}, {input, preferred_output, non_preferred_output}, "
             "{prompt, completion, label} or {messages, label}");
  if (record.contains("conversations"))
    return TextFormat::ShareGpt;
  if (record.contains("instruction"))
    return TextFormat::Alpaca;
  const auto prompt = record.find("prompt");
  if (prompt == record.end())
    return record.at("chosen").is_array() ? TextFormat::TrlImplicitPrompt : TextFormat::HhRlhf;
  if (prompt->is_array())
    return TextFormat::TrlConversational;
  if (prompt->is_string() && record.at("chosen").is_array())
    return TextFormat::UltraFeedback;
  return TextFormat::TrlStandard;
}

TextPair parsePairRecord(const json &record, TextFormat format, std::int64_t line) {
  requireObject(record);
  TextPair pair;
  pair.line = line;
  pair.id = recordId(record, line);
  switch (format) {
  case TextFormat::TrlStandard:
    parseStandard(record, pair);
    break;
  case TextFormat::TrlConversational:
    parseConversational(record, pair);
    break;
  case TextFormat::HhRlhf:
    parseHhRlhf(record, pair);
    break;
  case TextFormat::UltraFeedback:
    parseUltraFeedback(record, pair);
    break;
  case TextFormat::TrlImplicitPrompt:
    parseImplicitPrompt(record, pair);
    break;
  case TextFormat::ShareGpt:
    parseShareGpt(record, pair);
    break;
  case TextFormat::LlamaFactoryV1:
    parseLlamaFactoryV1(record, pair);
    break;
  case TextFormat::Alpaca:
    parseAlpaca(record, pair);
    break;
  case TextFormat::OpenAiDpo:
    parseOpenAiDpo(record, pair);
    break;
  case TextFormat::Auto:
  case TextFormat::KtoUnpaired:
  case TextFormat::KtoMessages:
    throw std::logic_error("parsePairRecord: not a paired format: " + textFormatName(format));
  }
  readPairExtras(record, pair);
  return pair;
}

UnpairedExample parseUnpairedRecord(const json &record, std::int64_t line) {
  requireObject(record);
  UnpairedExample example;
  example.line = line;
  example.id = recordId(record, line);
  if (record.contains("messages")) { // LLaMA-Factory's KTO layout: the last message is the completion
    const auto messages = parseLooseMessages(require(record, "messages"), "messages");
    if (messages.size() < 2)
      fail("messages", "needs at least a prompt message and the completion after it");
    const std::vector<ChatMessage> prompt(messages.begin(), messages.end() - 1);
    example.prompt = renderConversation(prompt) + kAssistantTag;
    example.completion = renderResponse(prompt, messages, "messages");
    example.messages = PairMessages{prompt, {messages.back()}, {}};
  } else {
    std::vector<ChatMessage> prompt;
    if (requireTextOrMessages(record, "prompt").is_array()) {
      prompt = promptMessages(record);
      example.prompt = renderConversation(prompt) + kAssistantTag;
    } else {
      example.prompt = record.at("prompt").get<std::string>();
    }
    const json &completion = requireTextOrMessages(record, "completion");
    if (completion.is_array()) {
      const auto answer = parseMessages(completion, "completion");
      example.completion = renderResponse(prompt, answer, "completion");
      if (!prompt.empty())
        example.messages = PairMessages{prompt, answerMessages(prompt, answer), {}};
    } else {
      example.completion = completion.get<std::string>();
    }
  }
  const json &label = require(record, "label");
  if (!label.is_boolean())
    fail("label", "expected true or false, got " + describe(label));
  example.desirable = label.get<bool>();
  example.refLogp = optionalLogp(record, "ref_logps");
  return example;
}

} // namespace preflab::core
