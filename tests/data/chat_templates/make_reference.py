#!/usr/bin/env python3
"""Renders every *.jinja template here over every conversation of conversations.json with jinja2
configured as Hugging Face transformers configures it for chat templates, and writes
reference.jsonl: one line per template x conversation x add_generation_prompt, holding the
rendered text or, when jinja2 raises, the error. tests/core/tst_chat_template.cpp checks
PrefLab's ChatTemplate against it.

Usage: python3 make_reference.py   (python3-jinja2; written against jinja2 3.1)
"""
import json
import pathlib

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = pathlib.Path(__file__).resolve().parent


class TemplateRaised(Exception):
    """What the template's raise_exception() raises."""


class GenerationTag(Extension):
    """{% generation %}...{% endgeneration %}: a call block that renders its body unchanged."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

    def _body(self, caller):
        return caller()


def raise_exception(message):
    raise TemplateRaised(message)


def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # Not jinja2's own tojson, which escapes HTML: plain json.dumps, as transformers does.
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def main():
    data = json.loads((HERE / "conversations.json").read_text(encoding="utf-8"))
    tokens = data["special_tokens"]
    lines = []
    for path in sorted(HERE.glob("*.jinja")):
        name = path.stem
        template = environment().from_string(path.read_text(encoding="utf-8"))
        for index, conversation in enumerate(data["conversations"]):
            for add_generation_prompt in (False, True):
                context = dict(tokens.get(name, tokens["default"]))
                context.update(conversation.get("extra", {}))
                context.update(messages=conversation["messages"], tools=conversation.get("tools"),
                               add_generation_prompt=add_generation_prompt)
                line = {"template": name, "conversation": index, "add_generation_prompt": add_generation_prompt}
                try:
                    line["text"] = template.render(**context)
                except TemplateRaised as e:
                    line["raised"] = str(e)
                except jinja2.TemplateError as e:
                    line["error"] = f"{type(e).__name__}: {e}"
                except (TypeError, ValueError, KeyError, IndexError) as e:
                    line["error"] = f"{type(e).__name__}: {e}"
                lines.append(json.dumps(line, ensure_ascii=False))
    (HERE / "reference.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} lines")


if __name__ == "__main__":
    main()
