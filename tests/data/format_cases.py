#!/usr/bin/python3
"""Writes expected.json for the reader's golden cases of the layouts found in the wild, computed
here from the documented rules (README "Data formats"), independently of the C++ reader, and adds
the pair-signal keys to the older cases' summaries. Run: /usr/bin/python3 tests/data/format_cases.py

Rendering: each message becomes "\\n\\n<Role>: <content>" (role capitalised; ShareGPT's human/gpt are
user/assistant); a prompt ends with "\\n\\nAssistant:" and a response starts with " ". Whole
conversations (TRL implicit prompt, LLaMA-Factory v1) split at their longest common run of messages
that ends before an assistant message in both; HH-RLHF splits after the chosen's last
"\\n\\nAssistant:", or at the last one inside the common prefix when the sides differ before it.
"""

import gzip
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TAG = "\n\nAssistant:"


def role(m):
    r = m.get("role") or {"human": "user", "gpt": "assistant"}.get(m["from"], m["from"])
    return r


def text(m):
    c = m["content"] if "content" in m else m["value"]
    if isinstance(c, str):
        return c
    return "".join(p["value"] if "value" in p else p["text"] for p in c)


def msg(m):
    return (role(m), text(m))


def render(messages):
    return "".join(f"\n\n{r[:1].upper() + r[1:]}: {c}" for r, c in messages)


def response(prompt, messages):
    if messages[:len(prompt)] == prompt and prompt:
        messages = messages[len(prompt):]
    return " " + messages[0][1] + render(messages[1:])


def split(chosen, rejected):
    n = 0
    while n < min(len(chosen), len(rejected)) and chosen[n] == rejected[n]:
        n += 1
    while n > 0 and not (n < len(chosen) and n < len(rejected) and chosen[n][0] == "assistant"
                         and rejected[n][0] == "assistant"):
        n -= 1
    prompt = chosen[:n]
    return render(prompt) + TAG, response(prompt, chosen), response(prompt, rejected)


def hh(c, r):
    end = c.rfind(TAG) + len(TAG)
    flagged = r.rfind(TAG) + len(TAG) != end or r[:end] != c[:end]
    if r[:end] != c[:end]:
        common = 0
        while common < min(len(c), len(r)) and c[common] == r[common]:
            common += 1
        end = c.rfind(TAG, 0, common) + len(TAG)
    return c[:end], c[end:], r[end:], flagged


def pair(fmt, j):
    if fmt == "hh-rlhf":
        p, c, r, flagged = hh(j["chosen"], j["rejected"])
        return p, c, r, flagged
    if fmt == "trl":
        return j["prompt"], j["chosen"], j["rejected"], False
    if fmt == "sharegpt":
        prompt = [msg(m) for m in j["conversations"]]
        return render(prompt) + TAG, " " + text(j["chosen"]), " " + text(j["rejected"]), False
    if fmt == "llamafactory-v1":
        return (*split([msg(m) for m in j["chosen_messages"]], [msg(m) for m in j["rejected_messages"]]), False)
    if fmt == "trl-implicit-prompt":
        return (*split([msg(m) for m in j["chosen"]], [msg(m) for m in j["rejected"]]), False)
    if fmt == "openai-dpo":
        prompt = [msg(m) for m in j["input"]["messages"]]
        return (render(prompt) + TAG, response(prompt, [msg(m) for m in j["preferred_output"]]),
                response(prompt, [msg(m) for m in j["non_preferred_output"]]), False)
    if fmt == "alpaca":
        instruction = j["instruction"] + ("\n\n" + j["input"] if j.get("input") else "")
        return render([("user", instruction)]) + TAG, " " + j["chosen"], " " + j["rejected"], False
    raise ValueError(fmt)


def stats(values):
    v = sorted(values)
    n = len(v)
    median = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return {"min": v[0], "mean": sum(v) / n, "median": float(median), "max": v[-1]}


def nbytes(s):
    return len(s.encode("utf-8"))


def elements(path):
    """(line, record) of each record of a JSONL or JSON-array file, plain or gzip."""
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    t = raw.decode("utf-8")
    if t.lstrip().startswith("["):
        decoder, out, i = json.JSONDecoder(), [], t.index("[") + 1
        while True:
            while t[i] in " \t\r\n,":
                i += 1
            if t[i] == "]":
                return out, 0, True
            obj, end = decoder.raw_decode(t, i)
            out.append((t.count("\n", 0, i) + 1, obj))
            i = end
    lines = t.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [(n, json.loads(l)) for n, l in enumerate(lines, 1) if l.strip()], sum(1 for l in lines if not l.strip()), False


def signal(records):
    lines = lambda cond: [r["line"] for r in records if cond(r)]
    def entry(ls):
        return {"count": len(ls), "lines": ls}
    return {"identical_pairs": entry(lines(lambda r: r["chosen"] == r["rejected"])),
            "empty_chosen": entry(lines(lambda r: r["chosen"] == "")),
            "empty_rejected": entry(lines(lambda r: r["rejected"] == ""))}


def record_id(j, line):
    for k in ("id", "prompt_id"):
        if isinstance(j.get(k), str) and j[k]:
            return j[k]
        if isinstance(j.get(k), (int, float)) and not isinstance(j.get(k), bool):
            return json.dumps(j[k])
    return str(line)


def paired_case(name, fmt, input_name, description):
    path = os.path.join(HERE, name, input_name)
    items, blanks, is_array = elements(path)
    records, flagged = [], []
    for line, j in items:
        p, c, r, f = pair(fmt, j)
        rec = {"id": record_id(j, line), "line": line, "prompt": p, "chosen": c, "rejected": r}
        for k in ("score_chosen", "score_rejected"):
            if k in j:
                rec[k] = j[k]
        records.append(rec)
        if f:
            flagged.append(line)
    summary = {"format": fmt, "pairs": len(records), "unpaired": 0, "skipped": 0, "blank_lines": blanks,
               "length": {k: stats([nbytes(r[k]) for r in records]) for k in ("prompt", "chosen", "rejected")},
               "ref_logps": 0,
               "chosen_longer_fraction": sum(len(r["chosen"].encode()) > len(r["rejected"].encode()) for r in records) / len(records)}
    summary.update(signal(records))
    if flagged:
        summary["prompt_from_common_prefix"] = {"count": len(flagged), "lines": flagged}
    if is_array:
        summary["json_array"] = True
    if open(path, "rb").read(2) == b"\x1f\x8b":
        summary["gzip"] = True
    write(name, {"description": description, "input": input_name, "format": fmt,
                 "record_count": len(records), "records": records, "summary": summary})


def kto_case(name, input_name, description):
    items, blanks, is_array = elements(os.path.join(HERE, name, input_name))
    records = []
    for line, j in items:
        msgs = [msg(m) for m in j["messages"]]
        records.append({"id": record_id(j, line), "line": line, "prompt": render(msgs[:-1]) + TAG,
                        "completion": " " + msgs[-1][1], "label": j["label"]})
    desirable = sum(r["label"] for r in records)
    summary = {"format": "kto-messages", "pairs": 0, "unpaired": len(records), "skipped": 0, "blank_lines": blanks,
               "length": {k: stats([nbytes(r[k]) for r in records]) for k in ("prompt", "completion")},
               "ref_logps": 0, "labels": {"desirable": desirable, "undesirable": len(records) - desirable},
               "json_array": True}
    write(name, {"description": description, "input": input_name, "format": "kto-messages",
                 "record_count": len(records), "records": records, "summary": summary})


def write(name, data):
    with open(os.path.join(HERE, name, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("wrote", name)


def add_signal(name):
    """Older golden cases: their summaries gain the pair-signal keys, from their expected records."""
    path = os.path.join(HERE, name, "expected.json")
    data = json.load(open(path, encoding="utf-8"))
    if data["summary"]["pairs"] > 0:
        data["summary"].update(signal(data["records"]))
    write(name, data)


def main():
    paired_case("hh_rlhf_gzip", "hh-rlhf", "input.jsonl.gz",
                "HH-RLHF as it ships (gzip); lines 1255 and 1951 of harmless-base test, where one side has an extra turn")
    paired_case("prescott_signal", "trl", "input.jsonl",
                "TRL strings from Tiny-HPC-RLHF test_prefs lines 224, 225 (chosen == rejected) and 762 (empty rejected)")
    paired_case("llamafactory_sharegpt", "sharegpt", "input.json",
                "LLaMA-Factory ShareGPT preference array (dpo_en_demo elements 134 and 1, the second with a system turn)")
    kto_case("llamafactory_kto", "input.json", "LLaMA-Factory KTO array (kto_en_demo elements 147 and 119)")
    paired_case("llamafactory_v1", "llamafactory-v1", "input.jsonl",
                "LLaMA-Factory v1 JSONL: chosen_messages/rejected_messages with text content parts")
    paired_case("mxandre_blank_lines", "trl", "input.jsonl",
                "Chinese TRL strings with a blank line and no final newline (Alignment-Mini-Lab dpo_eval lines 20-22 and 31)")
    paired_case("openai_dpo", "openai-dpo", "input.jsonl",
                "OpenAI fine-tuning DPO layout; string and text-part contents")
    paired_case("alpaca", "alpaca", "input.jsonl", "alpaca-style ranking: instruction, input, chosen, rejected")
    paired_case("trl_implicit_prompt", "trl-implicit-prompt", "input.jsonl",
                "TRL conversational pairs without a prompt key: the prompt is the shared beginning")
    for name in ("trl_standard", "trl_conversational", "hh_rlhf", "ultrafeedback", "rater_fields"):
        add_signal(name)


if __name__ == "__main__":
    main()
