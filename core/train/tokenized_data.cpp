// Tokenization of preference data: responses get EOS, KTO rows get a mismatched completion.
#include "core/train/tokenized_data.h"

#include "core/io/input_error.h"
#include "core/text/chat_template.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <optional>

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

// TRL's split of a conversation: the prompt rendered (with the generation prompt when its last
// message is the user's, continued when it is the assistant's), then each answer as what prompt +
// answer renders after the part the first answer shares with the prompt. An answer whose render
// differs before that point is refused (key `keys[i]`): TRL would cut it there unchecked and
// train on misaligned text.
std::vector<std::string> renderTurns(const ChatTemplate &t, const nlohmann::json &specialTokens,
                                     const std::vector<ChatMessage> &prompt,
                                     const std::vector<const std::vector<ChatMessage> *> &answers,
                                     const std::vector<const char *> &keys, std::int64_t line) {
  const std::string lastRole = prompt.empty() ? std::string() : prompt.back().role;
  if (lastRole != "user" && lastRole != "assistant")
    throw InputError({}, line, "prompt",
                     "a conversational prompt must end with a user or an assistant message, got '" +
                         lastRole + "'");
  std::string shared = renderMessages(t, specialTokens, messagesJson(prompt), lastRole == "user");
  if (lastRole == "assistant")
    shared = cutAfterFinalMessage(shared, prompt.back().content, line);
  std::vector<std::string> out{std::string()};
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const auto full = renderMessages(t, specialTokens, messagesJson(prompt, *answers[i]), false);
    if (i == 0) { // some templates render the generation prompt unlike the answer turn (<think>)
      std::size_t n = 0;
      while (n < shared.size() && n < full.size() && shared[n] == full[n])
        ++n;
      shared.resize(n);
    } else if (full.compare(0, shared.size(), shared) != 0) {
      throw InputError(
          {}, line, keys[i],
          "the chat template renders the conversation before this answer differently from the one "
          "before the first");
    }
    out.push_back(full.substr(shared.size()));
  }
  out[0] = shared;
  return out;
}

TextPair renderPair(const TextPair &pair, const ChatTemplate &t, const nlohmann::json &specialTokens) {
  const auto &m = *pair.messages;
  const auto texts =
      renderTurns(t, specialTokens, m.prompt, {&m.chosen, &m.rejected}, {"chosen", "rejected"}, pair.line);
  TextPair out = pair;
  out.prompt = texts[0];
  out.chosen = texts[1];
  out.rejected = texts[2];
  return out;
}

UnpairedExample renderUnpaired(const UnpairedExample &example, const ChatTemplate &t,
                               const nlohmann::json &specialTokens) {
  const auto &m = *example.messages;
  const auto texts = renderTurns(t, specialTokens, m.prompt, {&m.chosen}, {"completion"}, example.line);
  UnpairedExample out = example;
  out.prompt = texts[0];
  out.completion = texts[1];
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
  const auto conversational = [](const auto &rows) {
    return std::any_of(rows.begin(), rows.end(), [](const auto &r) { return r.messages.has_value(); });
  };
  if (const auto chat = tokenizer.chatTemplate(); !chat.empty()) {
    const ChatTemplate parsed(chat); // a template that does not parse is refused either way
    if (conversational(input.pairs) || conversational(input.unpaired)) { // else nothing to render
      const auto tokens = chatTemplateTokens(tokenizer);
      rendered = input;
      try {
        for (auto &p : rendered.pairs)
          if (p.messages)
            p = renderPair(p, parsed, tokens);
        for (auto &u : rendered.unpaired)
          if (u.messages)
            u = renderUnpaired(u, parsed, tokens);
      } catch (const InputError &e) {
        throw InputError(input.path, e.line(), e.key(), e.message());
      }
      source = &rendered;
    }
  }
  const TextPreferenceData &data = *source;
  if (!data.isUnpaired() && !asUnpaired) {
    for (const auto &p : data.pairs)
      out.pairs.push_back({p.id, encodePrompt(tokenizer, p.prompt), withEos(tokenizer.encode(p.chosen), eos),
                           withEos(tokenizer.encode(p.rejected), eos), p.raterFraction, p.refChosenLogp,
                           p.refRejectedLogp});
    return out;
  }
  // One KTO row: the prompt, the completion with EOS, its label and cached reference log-prob.
  const auto row = [&](std::string id, TokenIds prompt, const std::string &completion, bool desirable,
                       std::optional<double> ref) {
    out.unpaired.push_back({std::move(id),
                            std::move(prompt),
                            withEos(tokenizer.encode(completion), eos),
                            {},
                            desirable,
                            ref,
                            std::nullopt});
  };
  if (data.isUnpaired()) {
    for (const auto &u : data.unpaired)
      row(u.id, encodePrompt(tokenizer, u.prompt), u.completion, u.desirable, u.refLogp);
  } else {
    for (const auto &p : data.pairs) {
      const auto prompt = encodePrompt(tokenizer, p.prompt);
      row(p.id + "/chosen", prompt, p.chosen, true, p.refChosenLogp);
      row(p.id + "/rejected", prompt, p.rejected, false, p.refRejectedLogp);
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

std::vector<TokenIds> encodeSamplingPrompts(const Tokenizer &tokenizer,
                                            const std::vector<std::string> &prompts, bool useChatTemplate) {
  std::vector<TokenIds> out;
  const auto source = useChatTemplate ? tokenizer.chatTemplate() : std::string();
  std::optional<ChatTemplate> chat;
  if (!source.empty())
    chat.emplace(source);
  const auto tokens = chat ? chatTemplateTokens(tokenizer) : nlohmann::json();
  for (const auto &prompt : prompts) {
    if (prompt.empty()) {
      out.emplace_back();
    } else if (chat) {
      const auto text = renderMessages(*chat, tokens, messagesJson({{"user", prompt}}), true);
      out.push_back(encodePrompt(tokenizer, text));
    } else {
      out.push_back(encodePrompt(tokenizer, prompt));
    }
  }
  return out;
}

} // namespace preflab::core
