"""Prints the Markdown tables of docs/eval/models.md from the JSON files tests/benchmarks/eval/run.sh writes."""
import json
import os
import sys

args = sys.argv[1:]
out = args[0]
split = args.index("--")
models, sets = args[1:split], args[split + 1:]


def load(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None


def pair(r):
    return f"{r['ndcg@10']:.4f} / {r['recall@100']:.4f}" if r else "—"


print("| model | set | lexical | dense | default hybrid | tuned hybrid | tuned on |")
print("|---|---|---|---|---|---|---|")
for model in models:
    for s in sets:
        r = load(f"{model}-{s}.json")
        folds = load(f"{model}-{s}-folds.json")
        if r is None:
            continue
        res = r["results"]
        if "hybrid-tuned" in res:
            tuned, source = pair(res["hybrid-tuned"]), r["tuning"]["source"]
        elif folds:
            n = sum(f["heldOutQueries"] for f in folds["folds"])
            nd = sum(f["heldOut"]["tuned"] * f["heldOutQueries"] for f in folds["folds"]) / n
            tuned, source = f"{nd:.4f} / —", "two-fold (each half tuned on the other)"
        else:
            tuned, source = "—", ""
        print(f"| {model} | {s} | {pair(res.get('lexical'))} | {pair(res.get('dense'))} | {pair(res.get('hybrid'))} | {tuned} | {source} |")

print()
print("| model | set | fold | tuned on | scored | default | tuned | tuned − default | setting | decision |")
print("|---|---|---|---:|---:|---:|---:|---:|---|---|")
for model in models:
    for s in sets:
        folds = load(f"{model}-{s}-folds.json")
        if folds is None:
            continue
        for f in folds["folds"]:
            h = f["heldOut"]
            t = f["tuned"]
            setting = f"{t['method']} k {t['k']:g} {t['lexicalWeight']:g}:{t['denseWeight']:g} depth {t.get('depth')}"
            print(f"| {model} | {s} | {f['fold']} | {f['tuneQueries']} | {f['heldOutQueries']} | {h['default']:.4f} | {h['tuned']:.4f} | {h['delta']:+.4f} | {setting} | {f['decision']} |")
