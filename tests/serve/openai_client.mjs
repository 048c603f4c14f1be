// Drives `nativelm serve` with the official `openai` npm client and prints what came back as
// one JSON object for tests/serve/openai_client_test.cc to check.
// Usage: node openai_client.mjs BASE_URL API_KEY MODEL
import OpenAI from "openai";

const [baseURL, apiKey, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60000 });
const out = {};

const models = await client.models.list();
out.models = models.data.map((m) => m.id);

const messages = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "The cat sat on the mat?" },
];
const chat = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0 });
out.chat = { content: chat.choices[0].message.content, role: chat.choices[0].message.role,
             finish: chat.choices[0].finish_reason, usage: chat.usage, object: chat.object };

const stream = await client.chat.completions.create({
  model, messages, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true },
});
let content = "", finish = null, usage = null, chunks = 0, role = null;
for await (const chunk of stream) {
  chunks += 1;
  if (chunk.usage) usage = chunk.usage;
  for (const c of chunk.choices) {
    if (c.delta.role) role = c.delta.role;
    if (c.delta.content) content += c.delta.content;
    if (c.finish_reason) finish = c.finish_reason;
  }
}
out.stream = { content, finish, usage, chunks, role };

const lp = await client.chat.completions.create({
  model, messages, max_tokens: 5, temperature: 0, logprobs: true, top_logprobs: 2,
});
out.logprobs = { content: lp.choices[0].logprobs.content, tokens: lp.usage.completion_tokens };

const completion = await client.completions.create({ model, prompt: "The cat", max_tokens: 6, temperature: 0 });
out.completion = { text: completion.choices[0].text, finish: completion.choices[0].finish_reason, usage: completion.usage };

const many = await client.completions.create({ model, prompt: "The", max_tokens: 6, temperature: 1.5, n: 3, seed: 5 });
out.n = many.choices.map((c) => ({ index: c.index, text: c.text }));

try {
  await client.completions.create({ model: "no-such-model", prompt: "x", max_tokens: 1 });
  out.bad_model = "accepted";
} catch (e) {
  out.bad_model = { status: e.status, type: e.error?.type ?? e.type, param: e.error?.param ?? e.param };
}
console.log(JSON.stringify(out));
