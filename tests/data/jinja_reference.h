// Runs the reference renderer (tests/data/chat_template_ref.py: /usr/bin/python3 + Jinja2 with
// HF's settings) on a batch of cases and compares nativelm's output with it, for the
// differential chat-template tests.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/chat_template/chat_template.h"
#include "test_util.h"

namespace nlm::testing {

inline bool have_jinja2() { return std::system("/usr/bin/python3 -c 'import jinja2' >/dev/null 2>&1") == 0; }

// One JSON result per case: {"ok": true, "text": ...} or {"ok": false, "error": ...}.
inline std::vector<nlohmann::ordered_json> jinja_reference(const std::vector<nlohmann::ordered_json>& cases) {
  TempDir dir;
  std::string in;
  for (auto& c : cases) in += c.dump() + "\n";
  write_text(dir.file("cases.jsonl"), in);
  std::string cmd = "/usr/bin/python3 " + std::string(NATIVELM_SOURCE_DIR) + "/tests/data/chat_template_ref.py " +
                    dir.file("cases.jsonl") + " > " + dir.file("out.jsonl");
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<nlohmann::ordered_json> out;
  std::ifstream f(dir.file("out.jsonl"));
  for (std::string line; std::getline(f, line);) out.push_back(nlohmann::ordered_json::parse(line));
  EXPECT_EQ(out.size(), cases.size());
  return out;
}

// How many differences to print (NLM_SHOW_DIFFS, default 5).
inline size_t max_shown() {
  const char* e = std::getenv("NLM_SHOW_DIFFS");
  return e ? std::strtoul(e, nullptr, 10) : 5;
}

// nativelm's result for a case, in the reference's shape.
inline nlohmann::ordered_json nativelm_render(const nlohmann::ordered_json& c) {
  data::chat_template::ChatRenderOptions o;
  o.add_generation_prompt = c.value("add_generation_prompt", false);
  o.bos_token = c.value("bos_token", "");
  o.eos_token = c.value("eos_token", "");
  if (c.contains("tools")) o.tools = c["tools"];
  if (c.contains("extra")) o.extra = c["extra"];
  try {
    return {{"ok", true}, {"text", data::chat_template::render_chat(c["template"].get<std::string>(), c["messages"], o)}};
  } catch (const nlm::Error& e) {
    return {{"ok", false}, {"error", e.what()}};
  }
}

// Renders every case with nativelm and compares with Jinja2's results `want`; returns the number
// of cases whose output differs (a render on one side and an error on the other counts; two
// errors agree) and reports the first few differences.
inline size_t count_differences(const std::vector<nlohmann::ordered_json>& cases,
                                const std::vector<nlohmann::ordered_json>& want, const std::string& label) {
  size_t diffs = 0;
  for (size_t i = 0; i < cases.size() && i < want.size(); ++i) {
    auto got = nativelm_render(cases[i]);
    bool same = got["ok"] == want[i]["ok"] && (!got["ok"].get<bool>() || got["text"] == want[i]["text"]);
    if (!same && ++diffs <= max_shown())
      ADD_FAILURE() << label << " case " << i << ": " << cases[i].dump() << "\n nativelm: " << got.dump()
                    << "\n   jinja2: " << want[i].dump();
  }
  return diffs;
}

}  // namespace nlm::testing
