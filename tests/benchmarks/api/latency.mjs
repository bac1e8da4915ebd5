// Single-client search latency through the HTTP API: every query once per mode, one request at a time, keep-alive.
// The first request of each mode is a warm-up and is not counted. Also writes the search bodies wrk replays.
// usage: node latency.mjs <base-url> <index> <queries.jsonl> <bodies-out.txt> [k=10]
import { readFileSync, writeFileSync } from "node:fs";

const [base, index, queriesPath, bodiesOut, kArg] = process.argv.slice(2);
const k = Number(kArg ?? 10);
const headers = { "Content-Type": "application/json" };
if (process.env.SEMSEARCH_API_KEY) headers["X-Api-Key"] = process.env.SEMSEARCH_API_KEY;
const queries = readFileSync(queriesPath, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l).text);

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const rows = [];
for (const mode of ["hybrid", "dense", "lexical"]) {
  const body = (q) => JSON.stringify({ query: q, k, mode });
  const warm = await fetch(`${base}/indexes/${index}/search`, { method: "POST", headers, body: body(queries[0]) });
  const warmText = await warm.text();
  if (!warm.ok) {
    rows.push(`| ${mode} | — | — | — | — | — | not available: ${warm.status} ${JSON.parse(warmText).detail ?? ""} |`);
    continue;
  }
  const client = [], server = [];
  let errors = 0;
  for (const q of queries) {
    const t0 = performance.now();
    const res = await fetch(`${base}/indexes/${index}/search`, { method: "POST", headers, body: body(q) });
    const json = await res.json();
    client.push(performance.now() - t0);
    if (!res.ok) errors++; else server.push(json.tookMs);
  }
  client.sort((a, b) => a - b);
  server.sort((a, b) => a - b);
  const mean = client.reduce((a, b) => a + b, 0) / client.length;
  rows.push(`| ${mode} | ${client.length} | ${pct(client, 50).toFixed(2)} | ${pct(client, 95).toFixed(2)} | ${pct(client, 99).toFixed(2)} | ` +
    `${mean.toFixed(2)} | server tookMs p50 ${pct(server, 50).toFixed(2)}; ${errors} errors |`);
}
console.log("| mode | queries | p50 ms | p95 ms | p99 ms | mean ms | notes |");
console.log("|---|---:|---:|---:|---:|---:|---|");
for (const r of rows) console.log(r);

// wrk replays these bodies; run.sh rewrites the mode for each wrk pass.
writeFileSync(bodiesOut, queries.map((q) => JSON.stringify({ query: q, k, mode: "lexical" })).join("\n") + "\n");
