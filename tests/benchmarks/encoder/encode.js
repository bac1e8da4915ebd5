// onnxruntime-node peer of tests/benchmarks/encoder: runs the same ONNX file over token ids computed by the engine's
// tokenizer, batches of similar length (sorted, as the engine does), CLS vector L2-normalised, rows in input order.
//   node encode.js <model.onnx> <ids.json> <out.f32> <threads> <batch>
const ort = require('onnxruntime-node');
const fs = require('fs');
(async () => {
  const [model, idsFile, out, threads, batch] = process.argv.slice(2);
  const ids = JSON.parse(fs.readFileSync(idsFile, 'utf8'));
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: +threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const order = ids.map((s, i) => i).sort((a, b) => ids[a].length - ids[b].length);
  let dims = 0; let result = null;
  for (let start = 0; start < order.length; start += +batch) {
    const rows = order.slice(start, start + +batch);
    const len = Math.max(...rows.map(r => ids[r].length));
    const n = rows.length;
    const inputIds = new BigInt64Array(n * len), mask = new BigInt64Array(n * len), types = new BigInt64Array(n * len);
    rows.forEach((r, k) => ids[r].forEach((t, j) => { inputIds[k * len + j] = BigInt(t); mask[k * len + j] = 1n; }));
    const feeds = {
      input_ids: new ort.Tensor('int64', inputIds, [n, len]),
      attention_mask: new ort.Tensor('int64', mask, [n, len]),
      token_type_ids: new ort.Tensor('int64', types, [n, len]),
    };
    const output = (await session.run(feeds))[session.outputNames[0]];
    dims = output.dims[output.dims.length - 1];
    if (!result) result = new Float32Array(ids.length * dims);
    rows.forEach((r, k) => {
      const v = output.dims.length === 3 ? output.data.subarray(k * len * dims, k * len * dims + dims) : output.data.subarray(k * dims, (k + 1) * dims);
      let norm = 0; for (let j = 0; j < dims; j++) norm += v[j] * v[j];
      norm = Math.sqrt(norm) || 1;
      for (let j = 0; j < dims; j++) result[r * dims + j] = v[j] / norm;
    });
  }
  fs.writeFileSync(out, Buffer.from(result.buffer));
})().catch(e => { console.error(e); process.exit(1); });
