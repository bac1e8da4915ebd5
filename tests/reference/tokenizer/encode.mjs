// Reference tokenizer for the WordPiece tests: runs a Hugging Face tokenizer.json through the pure-JS
// @huggingface/tokenizers package (an implementation independent of ours and of Microsoft.ML.Tokenizers).
// Usage: node encode.mjs <tokenizer.json>   stdin: a JSON array of strings
// stdout: a JSON array with, per input string, the input_ids with special tokens ([CLS] ... [SEP]), no truncation.
import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

const path = process.argv[2];
if (!path) {
  process.stderr.write("usage: node encode.mjs <tokenizer.json> < strings.json\n");
  process.exit(2);
}
const tokenizer = new Tokenizer(JSON.parse(readFileSync(path, "utf8")), {});
const texts = JSON.parse(readFileSync(0, "utf8"));
const out = texts.map((t) => tokenizer.encode(t, { add_special_tokens: true }).ids);
process.stdout.write(JSON.stringify(out));
