// Loads a BEIR corpus.jsonl into an index through POST /indexes/{name}/documents, in batches.
// usage: node load-scifact.mjs <base-url> <corpus.jsonl> <index> [batch=500]
import { readFileSync } from "node:fs";

const [base, corpusPath, index, batchArg] = process.argv.slice(2);
const batch = Number(batchArg ?? 500);
const headers = { "Content-Type": "application/json" };
if (process.env.SEMSEARCH_API_KEY) headers["X-Api-Key"] = process.env.SEMSEARCH_API_KEY;

const docs = readFileSync(corpusPath, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l))
  .map((d) => ({ id: String(d._id), title: d.title ?? "", text: d.text ?? "" }));
const started = performance.now();
let chunks = 0;
for (let i = 0; i < docs.length; i += batch) {
  const res = await fetch(`${base}/indexes/${index}/documents`, {
    method: "POST", headers, body: JSON.stringify({ documents: docs.slice(i, i + batch) }),
  });
  if (!res.ok) throw new Error(`upsert failed at ${i}: ${res.status} ${await res.text()}`);
  chunks += (await res.json()).chunks;
}
const seconds = (performance.now() - started) / 1000;
console.log(`indexed ${docs.length} documents (${chunks} chunks) through the API in ${seconds.toFixed(1)} s ` +
  `(${(docs.length / seconds).toFixed(0)} docs/s, batches of ${batch})`);
