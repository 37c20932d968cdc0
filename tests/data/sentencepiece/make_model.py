#!/usr/bin/env python3
# Trains the two small SentencePiece models of this folder and writes the texts and the ids that
# python3-sentencepiece (Debian's binding of the same libsentencepiece) gives for them.
#
# Usage: /usr/bin/python3 make_model.py   (run here; Debian's python3-sentencepiece 0.1.97)
import json
import os
import random

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))

WORDS = ("the of and to in is was for on that with as by it from at are this be or an which "
         "model reward policy preference chosen rejected prompt response answer question learning "
         "training loss gradient token tokenizer sentence piece byte fallback hello world quick brown "
         "fox jumps over lazy dog data set value function human feedback assistant user system").split()
CJK = ["中文测试", "你好", "世界", "这是一个句子", "日本語", "テキスト", "カタカナ", "ひらがな", "한국어", "문장입니다"]
EMOJI = ["😀", "👍", "👍🏽", "❤️", "🇫🇷", "👨‍👩‍👧‍👦", "🎉"]


def corpus(lines):
    # A few hundred sentences of English with some CJK, emoji, digits and punctuation mixed in.
    rng = random.Random(20240611)
    out = []
    for i in range(lines):
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 14))]
        if i % 3 == 0:
            words.insert(rng.randrange(len(words)), rng.choice(CJK))
        if i % 5 == 0:
            words.append(rng.choice(EMOJI))
        if i % 7 == 0:
            words.insert(0, str(rng.randint(0, 99999)))
        sentence = " ".join(words)
        out.append(sentence[0].upper() + sentence[1:] + rng.choice([".", "!", "?", ",", ":"]))
    return out


# Each one a trap for a tokenizer written without the library: whitespace SentencePiece keeps or
# collapses, characters outside the vocabulary (byte fallback or <unk>), pieces spelled as text.
TEXTS = [
    "Hello world",
    "",
    " ",
    "   leading spaces and trailing   ",
    "multiple     spaces\tand\ttabs\t\tdouble",
    "line one\nline two\r\nwindows\r\rold mac\n\n\nthree newlines",
    "  \n  \t \r\n mixed whitespace runs \u3000 ideographic space",
    "Numbers: 1 12 123 1234 12345 3.14159 -42 1,000,000 0x1F \u0661\u0662\u0663 \u00b2\u00b3",
    "Emoji: \U0001F600 \U0001F44D\U0001F3FD \U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 "
    "\U0001F3F3\ufe0f\u200d\U0001F308 \u2764\ufe0f \U0001F1EB\U0001F1F7 ok",
    "中文测试：你好，世界！这是一个句子。",
    "日本語のテキスト、カタカナとひらがな。한국어 문장입니다.",
    "Combining: e\u0301 a\u0308 n\u0303 A\u030a vs \u00e9 \u00e4 \u00f1 \u00c5",
    "NFKC: \ufb01 \ufb02 \u2460 \uff21\uff22\uff23 \uff76\uff80\uff76\uff85 \u00bd \u2122 \u216b",
    "line\u2028separator and\u2029paragraph and\u0085next line",
    "\ufeffBOM at the start",
    "middle\ufeffBOM",
    "<s>[INST] question [/INST] answer</s>",
    "<s> written inside text <s><s>and </s> and <unk> and <pad>",
    "user defined <sep> symbol<sep><sep> and control <ctl> in text",
    "\u2581 the meta symbol itself \u2581\u2581 and U+2047 \u2047",
    "Tabs\tonly\t\t\t",
    "trailing newline\n",
    "\n",
    "\t",
    "\r\n\r\n",
    "Arabic: مرحبا بالعالم. Hebrew: שלום עולם. Hindi: नमस्ते दुनिया",
    "Ünïcödé àccents ÀÉÎÕÜ straße ΣΊΣΥΦΟΣ İstanbul",
    "The quick brown fox jumps over the lazy dog. The reward model prefers the chosen response.",
    "Control chars \u0000 nul \u0001 soh \u007f del \u001b esc",
    "Private use \ue000 and noncharacter \ufffe and replacement \ufffd",
    "Supplementary: \U00020000 \U0002a6d6 \U0001d400 \U0010ffff",
    "a" * 300,
    "word " * 60,
    "Code: def f(x):\n    return x ** 2  # square\n\tif x != 0: pass",
    "URL https://example.com/path?q=1&r=two#frag and e-mail someone@example.org",
    "Quotes \u201csmart\u201d \u2018single\u2019 \u00abguillemets\u00bb \u300cbrackets\u300d",
    "Zero width: a\u200bb c\u200cd e\u200df",
]


def train(prefix, **options):
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus(600)), model_prefix=os.path.join(HERE, prefix), num_threads=1,
        minloglevel=2, **options)
    os.remove(os.path.join(HERE, prefix + ".vocab"))


def varint(n):
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varint(b, i):
    value = shift = 0
    while True:
        value |= (b[i] & 0x7F) << shift
        shift += 7
        i += 1
        if b[i - 1] < 0x80:
            return value, i


def charsmap_offset(model):
    # The file offset of normalizer_spec.precompiled_charsmap's bytes (ModelProto field 3, its field 2).
    i = 0
    while i < len(model):
        key, i = read_varint(model, i)
        assert key & 7 == 2, "every ModelProto field written by the trainer is length-delimited"
        n, i = read_varint(model, i)
        if key >> 3 == 3:
            j = i
            while j < i + n:
                k, j = read_varint(model, j)
                if k & 7 == 0:
                    _, j = read_varint(model, j)
                    continue
                m, j = read_varint(model, j)
                if k >> 3 == 2:
                    return j
                j += m
        i += n
    raise ValueError("no precompiled_charsmap")


def write_regressions():
    # Inputs that crash or leak through Debian's libsentencepiece 0.1.97 unless the shim refuses
    # them (core/sentencepiece_shim/model_proto_check.h); first found by tests/fuzz/fuzz_sentencepiece.
    model = bytearray(open(os.path.join(HERE, "unigram.model"), "rb").read())
    at = charsmap_offset(model)
    # Bytes 2 and 5 of the trie (after its 4-byte size): the root unit's offset now leads outside
    # the trie, and the first encode read far past it (SEGV in Normalizer::NormalizePrefix).
    broken = bytearray(model)
    broken[at + 6], broken[at + 9] = broken[at + 9], broken[at + 6]
    open(os.path.join(HERE, "bad_charsmap.model"), "wb").write(bytes(broken))
    # A piece starting with a NUL byte: darts-clone throws ("zero-length key") out of
    # LoadFromSerializedProto, past the status it returns for other errors.
    nul_piece = b"\x0a\x02\x00e" + b"\x15" + bytes(4)  # piece = "\0e", score = 0.0
    open(os.path.join(HERE, "nul_piece.model"), "wb").write(bytes(model) + b"\x0a" + varint(len(nul_piece)) + nul_piece)


def main():
    # Llama's settings: BPE, byte fallback, no normalization, digits split, whitespace kept.
    train("bpe", model_type="bpe", vocab_size=600, byte_fallback=True, normalization_rule_name="identity",
          split_digits=True, allow_whitespace_only_pieces=True, remove_extra_whitespaces=False,
          character_coverage=0.9995, unk_surface=" \u2047 ")
    # Unigram with the library's defaults otherwise: collapsed whitespace, <unk> for unseen
    # characters, a user-defined and a control symbol, a pad piece. A tiny normalization table
    # (nmt_nfkc's would make the file 240 KB) still exercises the normalizer.
    rules = os.path.join(HERE, "rules.tsv.tmp")
    with open(rules, "w", encoding="utf-8") as f:
        for src, dst in [("\ufb01", "fi"), ("\ufb02", "fl"), ("\uff21", "A"), ("\uff22", "B"),
                         ("\uff23", "C"), ("\u3000", " "), ("\u2460", "1")]:
            f.write(" ".join("%X" % ord(c) for c in src) + "\t" + " ".join("%X" % ord(c) for c in dst) + "\n")
    train("unigram", model_type="unigram", vocab_size=340, normalization_rule_tsv=rules,
          user_defined_symbols=["<sep>"], control_symbols=["<ctl>"], pad_id=3, unk_id=0, bos_id=1,
          eos_id=2)
    os.remove(rules)

    with open(os.path.join(HERE, "texts.jsonl"), "w", encoding="utf-8") as f:
        for t in TEXTS:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    for name in ("bpe", "unigram"):
        sp = spm.SentencePieceProcessor(model_file=os.path.join(HERE, name + ".model"))
        with open(os.path.join(HERE, name + ".reference.jsonl"), "w", encoding="utf-8") as f:
            for t in TEXTS:
                ids = sp.encode(t)
                f.write(json.dumps({"ids": ids, "pieces": [sp.id_to_piece(i) for i in ids],
                                    "decoded": sp.decode(ids)}, ensure_ascii=False) + "\n")
        with open(os.path.join(HERE, name + ".specials.json"), "w", encoding="utf-8") as f:
            json.dump({"vocab_size": sp.get_piece_size(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id(),
                       "unk_id": sp.unk_id(), "pad_id": sp.pad_id(),
                       "control": [i for i in range(sp.get_piece_size()) if sp.is_control(i)]}, f)
            f.write("\n")
    write_regressions()


if __name__ == "__main__":
    main()
