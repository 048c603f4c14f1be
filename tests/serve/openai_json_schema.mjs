// Structured output through the official `openai` npm client: a chat request with a json_schema
// response_format, and a json_object one, against `nativelm serve`; prints what came back as one
// JSON object for tests/serve/json_schema_serve_test.cc to check.
// Usage: node openai_json_schema.mjs BASE_URL API_KEY MODEL
import OpenAI from "openai";

const [baseURL, apiKey, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120000 });
const schema = {
  type: "object",
  properties: { name: { type: "string", maxLength: 20 }, age: { type: "integer" } },
  required: ["name", "age"],
  additionalProperties: false,
};
const messages = [{ role: "user", content: "Who sat on the mat? Answer in JSON." }];
const out = {};
const r = await client.chat.completions.create({
  model, messages, max_tokens: 200, temperature: 0,
  response_format: { type: "json_schema", json_schema: { name: "person", schema, strict: true } },
});
out.schema = { content: r.choices[0].message.content, finish: r.choices[0].finish_reason };
const o = await client.chat.completions.create({
  model, messages, max_tokens: 200, seed: 5, response_format: { type: "json_object" },
});
out.object = { content: o.choices[0].message.content, finish: o.choices[0].finish_reason };
try {
  await client.chat.completions.create({
    model, messages, response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "string", pattern: "(a)\\1" } } },
  });
  out.bad = { status: 200 };
} catch (e) {
  out.bad = { status: e.status, message: e.error?.message ?? String(e) };
}
console.log(JSON.stringify(out));
