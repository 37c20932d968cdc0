// Tokenization of preference data: responses get EOS, KTO rows get a mismatched completion.
#include "core/train/tokenized_data.h"

#include "core/io/input_error.h"
#include "core/text/chat_template.h"

#include <nlohmann/json.hpp>

#include <memory>

namespace preflab::core {

namespace {

nlohmann::json messagesJson(const std::vector<ChatMessage> &a, const std::vector<ChatMessage> &b = {}) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto *list : {&a, &b})
    for (const auto &m : *list)
      out.push_back({{"role", m.role}, {"content", m.content}});
  return out;
}

std::string renderMessages(const ChatTemplate &t, nlohmann::json context, nlohmann::json messages,
                           bool generationPrompt) {
  context["messages"] = std::move(messages);
  context["add_generation_prompt"] = generationPrompt;
  return t.render(context);
}

// transformers' continue_final_message: the render cut after the last message's (stripped) text.
std::string cutAfterFinalMessage(const std::string &rendered, const std::string &content, std::int64_t line) {
  const auto first = content.find_first_not_of(" \t\n\r\f\v");
  const auto last = content.find_last_not_of(" \t\n\r\f\v");
  const auto stripped = first == std::string::npos ? std::string() : content.substr(first, last - first + 1);
  const auto at = rendered.rfind(stripped);
  if (at == std::string::npos)
    throw InputError({}, line, "prompt",
                     "the chat template does not render the prompt's last assistant message");
  return rendered.substr(0, at + stripped.size());
}

TextPair renderPair(const TextPair &pair, const ChatTemplate &t, const nlohmann::json &specialTokens) {
  const auto &m = *pair.messages;
  const std::string lastRole = m.prompt.empty() ? std::string() : m.prompt.back().role;
  if (lastRole != "user" && lastRole != "assistant")
    throw InputError({}, pair.line, "prompt",
                     "a conversational prompt must end with a user or an assistant message, got '" +
                         lastRole + "'");
  std::string prompt = renderMessages(t, specialTokens, messagesJson(m.prompt), lastRole == "user");
  if (lastRole == "assistant")
    prompt = cutAfterFinalMessage(prompt, m.prompt.back().content, pair.line);
  const auto chosen = renderMessages(t, specialTokens, messagesJson(m.prompt, m.chosen), false);
  const auto rejected = renderMessages(t, specialTokens, messagesJson(m.prompt, m.rejected), false);
  // Some templates render the generation prompt unlike the start of the answer turn (a <think>
  // block): the prompt is what it shares with prompt + chosen, as TRL takes it.
  std::size_t n = 0;
  while (n < prompt.size() && n < chosen.size() && prompt[n] == chosen[n])
    ++n;
  prompt.resize(n);
  // TRL would cut the rejected render at the same length unchecked; a render that differs there
  // would train on misaligned text, so it is refused.
  if (rejected.compare(0, n, prompt) != 0)
    throw InputError({}, pair.line, "rejected",
                     "the chat template renders the conversation before the rejected answer differently "
                     "from the one before the chosen answer");
  TextPair out = pair;
  out.prompt = prompt;
  out.chosen = chosen.substr(n);
  out.rejected = rejected.substr(n);
  return out;
}

TokenIds withEos(TokenIds ids, std::int64_t eos) {
  ids.push_back(eos);
  return ids;
}
} // namespace

bool TokenizedData::hasReference() const {
  for (const auto &p : pairs)
    if (!p.refChosen || !p.refRejected)
      return false;
  for (const auto &u : unpaired)
    if (!u.ref || !u.refKl)
      return false;
  return size() > 0;
}

nlohmann::json chatTemplateTokens(const Tokenizer &tokenizer) {
  nlohmann::json out = nlohmann::json::object();
  const auto name = [&](const char *key, std::optional<std::int64_t> id) {
    if (id)
      if (auto token = tokenizer.idToToken(*id))
        out[key] = *token;
  };
  name("bos_token", tokenizer.bosId());
  name("eos_token", tokenizer.eosId());
  return out;
}

TextPair renderWithChatTemplate(const TextPair &pair, const ChatTemplate &chatTemplate,
                                const nlohmann::json &specialTokens) {
  return pair.messages ? renderPair(pair, chatTemplate, specialTokens) : pair;
}

TokenizedData tokenizeData(const TextPreferenceData &input, const Tokenizer &tokenizer, bool asUnpaired) {
  TokenizedData out;
  const auto eos = tokenizer.eosId();
  const TextPreferenceData *source = &input;
  TextPreferenceData rendered;
  if (const auto chat = tokenizer.chatTemplate(); !chat.empty()) {
    const ChatTemplate parsed(chat);
    const auto tokens = chatTemplateTokens(tokenizer);
    rendered = input;
    for (auto &p : rendered.pairs)
      if (p.messages) {
        try {
          p = renderPair(p, parsed, tokens);
        } catch (const InputError &e) {
          throw InputError(input.path, p.line, e.key(), e.message());
        }
      }
    source = &rendered;
  }
  const TextPreferenceData &data = *source;
  if (!data.isUnpaired() && !asUnpaired) {
    for (const auto &p : data.pairs)
      out.pairs.push_back({p.id, encodePrompt(tokenizer, p.prompt), withEos(tokenizer.encode(p.chosen), eos),
                           withEos(tokenizer.encode(p.rejected), eos), p.raterFraction, p.refChosenLogp,
                           p.refRejectedLogp});
    return out;
  }
  if (data.isUnpaired()) {
    for (const auto &u : data.unpaired)
      out.unpaired.push_back({u.id,
                              encodePrompt(tokenizer, u.prompt),
                              withEos(tokenizer.encode(u.completion), eos),
                              {},
                              u.desirable,
                              u.refLogp,
                              std::nullopt});
  } else {
    for (const auto &p : data.pairs) {
      const auto prompt = encodePrompt(tokenizer, p.prompt);
      out.unpaired.push_back({p.id + "/chosen",
                              prompt,
                              withEos(tokenizer.encode(p.chosen), eos),
                              {},
                              true,
                              p.refChosenLogp,
                              std::nullopt});
      out.unpaired.push_back({p.id + "/rejected",
                              prompt,
                              withEos(tokenizer.encode(p.rejected), eos),
                              {},
                              false,
                              p.refRejectedLogp,
                              std::nullopt});
    }
  }
  // A fixed rotation (precomputable) that pairs each prompt with another example's completion;
  // pairs split in two sit side by side, so they rotate by two to leave their own prompt.
  const auto n = out.unpaired.size();
  const std::size_t shift = data.isUnpaired() ? 1 : 2;
  for (std::size_t i = 0; i < n; ++i)
    out.unpaired[i].klCompletion = out.unpaired[(i + (n > shift ? shift : 0)) % n].completion;
  return out;
}

} // namespace preflab::core
