// The same work with Hugging Face's tokenizers (npm module `tokenizers`, its Rust library):
// every text encoded without special tokens, --rounds passes, median time. Run with
// RAYON_NUM_THREADS=1 for one thread. Two ways of calling it are timed: one encode() per text
// (awaited in turn) and one encodeBatch() over all texts; the faster is the fair comparison.
// Usage: node tokenize_bench.js NODE_MODULES TOKENIZER_JSON TEXTS_JSONL [ROUNDS]
const fs = require('fs');
const path = require('path');
const [modules, tokenizerFile, textsFile, roundsArg] = process.argv.slice(2);
const { Tokenizer } = require(path.join(modules, 'tokenizers'));
const rounds = Number(roundsArg || 5);
(async () => {
  const t0 = process.hrtime.bigint();
  const tok = Tokenizer.fromFile(tokenizerFile);
  const loadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const texts = fs.readFileSync(textsFile, 'utf8').split('\n').filter((l) => l.length).map((l) => JSON.parse(l).text);
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const single = [], batch = [];
  let tokens = 0;
  for (let r = 0; r < rounds; ++r) {
    let start = process.hrtime.bigint();
    tokens = 0;
    for (const t of texts) tokens += (await tok.encode(t, null, { addSpecialTokens: false })).getIds().length;
    single.push(Number(process.hrtime.bigint() - start) / 1e9);
    start = process.hrtime.bigint();
    const all = await tok.encodeBatch(texts, { addSpecialTokens: false });
    batch.push(Number(process.hrtime.bigint() - start) / 1e9);
    if (all.length !== texts.length) throw new Error('batch size');
  }
  for (const [impl, xs] of [['tokenizers-encode', single], ['tokenizers-encodeBatch', batch]]) {
    const s = median(xs);
    console.log(JSON.stringify({ impl, texts: texts.length, bytes, tokens, seconds: s, load_s: loadSeconds,
      mb_per_s: bytes / 1e6 / s, tokens_per_s: tokens / s }));
  }
})();
