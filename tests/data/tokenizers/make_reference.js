// Reference ids from Hugging Face's own tokenizers library (the npm module `tokenizers`, its Rust
// code as a Node addon) for every text of texts.jsonl, with and without special tokens.
// Usage: node make_reference.js NODE_MODULES
// For each NAME.tokenizer.json.gz here and each variant of variants.json (a base file with some
// top-level keys replaced by "set" and some model keys by "model"), writes NAME.reference.jsonl,
// one line per text:
//   {"ids": [...], "ids_special": [...], "decoded": "..."}  (decoded keeps special tokens)
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { Tokenizer } = require(path.join(process.argv[2], 'tokenizers'));
const here = __dirname;
const texts = fs.readFileSync(path.join(here, 'texts.jsonl'), 'utf8').split('\n').filter((l) => l.length)
  .map((l) => JSON.parse(l).text);
const load = (name) => JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(here, `${name}.tokenizer.json.gz`))));
const jobs = fs.readdirSync(here).filter((f) => f.endsWith('.tokenizer.json.gz'))
  .map((f) => ({ name: f.replace('.tokenizer.json.gz', ''), json: load(f.replace('.tokenizer.json.gz', '')) }));
for (const v of JSON.parse(fs.readFileSync(path.join(here, 'variants.json'), 'utf8')))
  jobs.push({ name: v.name, json: (() => {
    const j = Object.assign(load(v.base), v.set || {});
    Object.assign(j.model, v.model || {});
    return j;
  })() });
(async () => {
  for (const job of jobs) {
    const file = path.join(os.tmpdir(), `reference-${job.name}.json`);
    fs.writeFileSync(file, JSON.stringify(job.json));
    const tok = Tokenizer.fromFile(file);
    const rows = [];
    for (const text of texts) {
      const plain = await tok.encode(text, null, { addSpecialTokens: false });
      const special = await tok.encode(text, null, { addSpecialTokens: true });
      const decoded = await tok.decode(plain.getIds(), false);
      rows.push(JSON.stringify({ ids: plain.getIds(), ids_special: special.getIds(), decoded }));
    }
    fs.writeFileSync(path.join(here, `${job.name}.reference.jsonl`), rows.join('\n') + '\n');
    fs.unlinkSync(file);
    console.log(job.name, rows.length);
  }
})();
