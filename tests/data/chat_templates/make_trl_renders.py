#!/usr/bin/env python3
"""Renders the conversational pairs of ../trl_conversational/input.jsonl with the qwen3, llama3 and
mistral templates here the way TRL's DPO trainer prepares them (maybe_extract_prompt, then
maybe_apply_chat_template): the prompt with the generation prompt when its last message is the
user's (continued when it is the assistant's), each answer as what prompt + answer renders after the
part it shares with the prompt. jinja2 is configured as in make_reference.py. Writes
trl_renders.jsonl, one line per template x pair: prompt, chosen and rejected, or the error.
tests/core/tst_conversational_training.cpp checks PrefLab's tokenizeData against it.

Usage: python3 make_trl_renders.py   (python3-jinja2)
"""
import json
import pathlib

import jinja2

from make_reference import HERE, TemplateRaised, environment

TEMPLATES = ("qwen3", "llama3", "mistral")


def split_prompt(record):
    """The record's prompt and answers as message lists, a prompt repeated in an answer dropped."""
    prompt = record.get("prompt")
    chosen, rejected = record["chosen"], record["rejected"]
    if prompt is None:  # implicit prompt: the messages both answers start with
        n = 0
        while n < min(len(chosen), len(rejected)) - 1 and chosen[n] == rejected[n]:
            n += 1
        return chosen[:n], chosen[n:], rejected[n:]
    for answer in ("chosen", "rejected"):
        if record[answer][: len(prompt)] == prompt:
            record[answer] = record[answer][len(prompt):]
    return prompt, record["chosen"], record["rejected"]


def render(template, tokens, messages, add_generation_prompt=False, continue_final_message=False):
    text = template.render(messages=messages, add_generation_prompt=add_generation_prompt, **tokens)
    if continue_final_message:  # as transformers' apply_chat_template cuts after the last message
        final = messages[-1]["content"]
        text = text[: text.rindex(final.strip()) + len(final.strip())]
    return text


def trl_render(template, tokens, record):
    prompt_messages, chosen_messages, rejected_messages = split_prompt(dict(record))
    last = prompt_messages[-1]["role"]
    prompt = render(template, tokens, prompt_messages, add_generation_prompt=last == "user",
                    continue_final_message=last == "assistant")
    prompt_chosen = render(template, tokens, prompt_messages + chosen_messages)
    n = 0
    while n < min(len(prompt), len(prompt_chosen)) and prompt[n] == prompt_chosen[n]:
        n += 1
    prompt = prompt[:n]
    prompt_rejected = render(template, tokens, prompt_messages + rejected_messages)
    return {"prompt": prompt, "chosen": prompt_chosen[n:], "rejected": prompt_rejected[n:]}


def main():
    tokens_by_template = json.loads((HERE / "conversations.json").read_text(encoding="utf-8"))["special_tokens"]
    records = [json.loads(line) for line in
               (HERE.parent / "trl_conversational" / "input.jsonl").read_text(encoding="utf-8").splitlines()]
    lines = []
    for name in TEMPLATES:
        template = environment().from_string((HERE / f"{name}.jinja").read_text(encoding="utf-8"))
        tokens = tokens_by_template.get(name, tokens_by_template["default"])
        for number, record in enumerate(records, start=1):
            line = {"template": name, "line": number}
            try:
                line.update(trl_render(template, tokens, record))
            except (TemplateRaised, jinja2.TemplateError) as e:
                line["error"] = str(e)
            lines.append(json.dumps(line, ensure_ascii=False))
    (HERE / "trl_renders.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} lines")


if __name__ == "__main__":
    main()
