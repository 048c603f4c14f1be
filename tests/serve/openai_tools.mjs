// Tool calling through the official `openai` npm client against `nativelm serve`: a forced call
// (tool_choice "required"), the same streamed with a named function (tool_calls deltas put
// together by index, as clients do), the call's result sent back as a `tool` message, and a
// tool_choice naming an undeclared function; prints what came back as one JSON object for
// tests/serve/tool_calls_serve_test.cc to check.
// Usage: node openai_tools.mjs BASE_URL API_KEY MODEL
import OpenAI from "openai";

const [baseURL, apiKey, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120000 });
const tools = [{
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather in a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string", enum: ["Cork", "香港", "กรุงเทพ"] } },
      required: ["city"],
      additionalProperties: false,
    },
  },
}];
const messages = [{ role: "user", content: "香港天氣點樣？" }];
const out = {};
const r = await client.chat.completions.create({
  model, messages, tools, tool_choice: "required", max_tokens: 150, temperature: 0,
});
out.call = { finish: r.choices[0].finish_reason, message: r.choices[0].message };

const stream = await client.chat.completions.create({
  model, messages, tools, tool_choice: { type: "function", function: { name: "get_weather" } },
  max_tokens: 150, temperature: 0, stream: true,
});
const calls = [];
let finish = null;
let content = "";
for await (const chunk of stream) {
  for (const c of chunk.choices) {
    if (c.delta.content) content += c.delta.content;
    for (const tc of c.delta.tool_calls ?? []) {
      calls[tc.index] ??= { id: "", name: "", arguments: "" };
      if (tc.id) calls[tc.index].id += tc.id;
      if (tc.function?.name) calls[tc.index].name += tc.function.name;
      if (tc.function?.arguments) calls[tc.index].arguments += tc.function.arguments;
    }
    if (c.finish_reason) finish = c.finish_reason;
  }
}
out.stream = { calls, finish, content };

const call = r.choices[0].message.tool_calls?.[0];
const follow = await client.chat.completions.create({
  model, tools, max_tokens: 8, temperature: 0,
  messages: [...messages, r.choices[0].message, { role: "tool", tool_call_id: call?.id ?? "x", content: "ฝนตก 24°C" }],
});
out.follow = { finish: follow.choices[0].finish_reason, content: follow.choices[0].message.content };

try {
  await client.chat.completions.create({
    model, messages, tools, tool_choice: { type: "function", function: { name: "nope" } },
  });
  out.bad = { status: 200 };
} catch (e) {
  out.bad = { status: e.status, param: e.error?.param ?? e.param ?? null };
}
console.log(JSON.stringify(out));
