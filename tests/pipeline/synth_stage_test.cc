// The synth stage of `nativelm build` against the scripted OpenAI-compatible stub the synth tests
// use (eval/judge_stub.h), on Thai documents: curate → synth (qa) → sft trains on the synth
// stage's chats, the report shows the rejection funnel, tokens, cost and escaped samples, a rerun
// skips the finished stage, a build killed inside it resumes without losing or repeating a record,
// rephrasings join the documents later stages read, `inputs:` files join the fingerprint, a synth
// stage that kept nothing stops the sft stage with a clear error, translated instructions train
// the sft stage and judged preference pairs the dpo stage, and misconfigurations fail when the
// file is loaded naming the key.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/error.h"
#include "eval/judge_stub.h"
#include "pipeline/pipeline.h"
#include "pipeline/synth_stage_options.h"
#include "test_util.h"
#include "train/sft_fixture.h"

using namespace nlm;
using namespace nlm::testing;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Each document: space-separated Thai clauses. The stub's grounded answer copies clauses 2 and 3.
const std::vector<std::vector<std::string>>& thai_docs() {
  static const std::vector<std::vector<std::string>> d = {
      {"กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย", "มีประชากรมากกว่าสิบล้านคน", "แม่น้ำเจ้าพระยาไหลผ่านใจกลางเมือง",
       "นักท่องเที่ยวนิยมไปเที่ยววัดพระแก้วและพระบรมมหาราชวัง"},
      {"เชียงใหม่ตั้งอยู่ทางภาคเหนือของประเทศไทย", "อากาศเย็นสบายในฤดูหนาว", "มีวัดเก่าแก่จำนวนมากในตัวเมือง",
       "ดอยสุเทพเป็นสถานที่ที่มีชื่อเสียงของจังหวัดนี้"},
      {"ร้านหนังสือแห่งนี้อยู่ใกล้ตลาด", "ขายหนังสือชื่อ <ภาษาไทยวันละคำ> & พจนานุกรม", "ผู้อ่านชอบอ่านหนังสือเล่มนี้มาก",
       "ร้านเปิดทุกวันตั้งแต่เช้าจนถึงค่ำ"},
      {"ภูเก็ตเป็นเกาะที่ใหญ่ที่สุดของประเทศไทย", "ตั้งอยู่ในทะเลอันดามันทางภาคใต้", "ชายหาดป่าตองมีชื่อเสียงไปทั่วโลก",
       "อาหารทะเลสดอร่อยและราคาไม่แพง"},
      {"ต้มยำกุ้งเป็นอาหารไทยที่มีชื่อเสียง", "รสชาติเปรี้ยวและเผ็ดร้อน", "ใส่ตะไคร้ ใบมะกรูด และข่า", "คนไทยนิยมกินกับข้าวสวยร้อน ๆ"},
      {"สงกรานต์เป็นเทศกาลปีใหม่ของไทย", "จัดขึ้นในเดือนเมษายนของทุกปี", "ผู้คนเล่นสาดน้ำกันทั่วประเทศ", "และไปทำบุญที่วัดกับครอบครัว"},
  };
  return d;
}

std::string join(const std::vector<std::string>& clauses) {
  std::string t;
  for (const auto& c : clauses) t += (t.empty() ? "" : " ") + c;
  return t;
}

// The raw inputs: one JSONL document per Thai text.
void write_inputs(const TempDir& dir) {
  std::string t;
  for (size_t k = 0; k < thai_docs().size(); ++k)
    t += json{{"id", "th" + std::to_string(k)}, {"text", join(thai_docs()[k])}}.dump() + "\n";
  write_text(dir.file("in.jsonl"), t);
}

// The document a prompt carries, or -1.
int doc_of(const std::string& user) {
  for (size_t k = 0; k < thai_docs().size(); ++k)
    if (user.find(thai_docs()[k][0]) != std::string::npos) return int(k);
  return -1;
}

// Per document: a grounded Thai pair (kept) and an English one (wrong language).
StubReply qa_reply(const std::string& user) {
  const int k = doc_of(user);
  if (k < 0) return StubReply{400, ""};
  const auto& d = thai_docs()[size_t(k)];
  json pairs =
      json::array({{{"question", "ข้อความนี้บอกอะไรเกี่ยวกับ" + d[0] + "?"}, {"answer", d[1] + " " + d[2]}},
                   {{"question", "What does the text say about this place?"},
                    {"answer", "It says that the place is famous and that many people visit it every year."}}});
  return StubReply{200, pairs.dump()};
}

// A rephrasing: the clauses in another order (grounded, in Thai, not a copy).
StubReply rephrase_reply(const std::string& user) {
  const int k = doc_of(user);
  if (k < 0) return StubReply{400, ""};
  const auto& d = thai_docs()[size_t(k)];
  return StubReply{200, join({d[2], d[3], d[0], d[1]})};
}

std::string synth_stage(const StubJudge& stub, const std::string& task, const std::string& extra = "") {
  return "  synth:\n    task: " + task + "\n    endpoint: " + stub.base_url() +
         "\n    model: stub\n    lang: th\n    min_chunk_chars: 50\n    retry_wait: 10ms\n    timeout: 20s\n"
         "    price_prompt: 2\n    price_completion: 10\n" +
         extra;
}

std::string pipeline_yaml(const TempDir& dir, const std::string& work, const std::string& stages) {
  return "work_dir: " + dir.file(work) + "\ninputs: [" + dir.file("in.jsonl") +
         "]\nstages:\n  curate:\n    steps: [normalize]\n" + stages;
}

std::string sft_stage(const TempDir& dir, const std::string& source) {
  return "  sft:\n    model: " + dir.file("base") + "\n" + source +
         "    steps: 2\n    max_length: 512\n    batch_size: 2\n    log_every: 0\n    eval_fraction: 0\n";
}

std::vector<json> synth_records(const std::string& data_dir) {
  std::vector<json> all;
  std::vector<std::string> parts;
  for (const auto& e : fs::directory_iterator(data_dir))
    if (e.path().filename().string().rfind("part-", 0) == 0 && e.path().extension() == ".jsonl")
      parts.push_back(e.path().string());
  std::sort(parts.begin(), parts.end());
  for (const auto& p : parts)
    for (auto& r : read_jsonl(p)) all.push_back(std::move(r));
  return all;
}

// The records without "source" (file:line of the curated document, which names the work folder).
std::string records_text(const std::string& data_dir) {
  std::string s;
  for (auto r : synth_records(data_dir)) {
    r.erase("source");
    s += r.dump() + "\n";
  }
  return s;
}

json stage_summary(const pipeline::BuildResult& r, const std::string& name) {
  const json report = json::parse(read_text(r.report_json));
  for (const auto& s : report["stages"])
    if (s["stage"] == name) return s["summary"];
  return json();
}

TEST(BuildSynth, QaChatsTrainTheSftStageAndTheReportShowsTheFunnel) {
  TempDir dir;
  write_inputs(dir);
  write_tiny_chat_model(dir.file("base"), 16, 1, 512);
  StubJudge stub([](const std::string&, const std::string& user) { return qa_reply(user); });
  write_text(dir.file("p.yaml"),
             pipeline_yaml(dir, "work", synth_stage(stub, "qa") + sft_stage(dir, "    from_synth: true\n")));
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  ASSERT_EQ(r.ran, 3);
  EXPECT_EQ(stub.requests(), 6u);

  // Six documents, a Thai pair kept and an English one rejected from each.
  const auto records = synth_records(dir.file("work/synth/data"));
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0]["messages"][1]["content"], thai_docs()[0][1] + " " + thai_docs()[0][2]);
  EXPECT_EQ(records[0]["lang"], "th");
  json s = stage_summary(r, "synth");
  EXPECT_EQ(s["records"], 6);
  EXPECT_EQ(s["makes"], "sft_data");
  std::map<std::string, int> funnel;
  std::vector<std::string> order;
  for (const auto& row : s["synth"]["funnel"]) {
    funnel[row["step"]] = row["count"];
    order.push_back(row["step"]);
  }
  EXPECT_EQ(funnel["chunks"], 6);
  EXPECT_EQ(funnel["candidates"], 12);
  EXPECT_EQ(funnel["wrong_language"], 6);
  EXPECT_EQ(funnel["kept"], 6);
  ASSERT_FALSE(order.empty());
  EXPECT_EQ(order.front(), "chunks");  // run_synth's order, not alphabetical
  EXPECT_EQ(order.back(), "kept");
  EXPECT_EQ(s["synth"]["tokens"]["prompt"], 600);  // the stub counts 100 + 7 per request
  EXPECT_EQ(s["synth"]["tokens"]["completion"], 42);
  EXPECT_NEAR(s["synth"]["cost_usd"].get<double>(), 600 * 2e-6 + 42 * 10e-6, 1e-12);
  ASSERT_EQ(s["synth"]["samples"].size(), 3u);

  // The sft stage trained on exactly those chats.
  json sft = stage_summary(r, "sft");
  EXPECT_EQ(sft["records"], 6);
  EXPECT_EQ(sft["examples"], 6);
  EXPECT_EQ(sft["from_synth"]["source_stage"], "synth");
  EXPECT_EQ(sft["steps"], 2);
  EXPECT_TRUE(fs::exists(dir.file("work/sft/model/model.safetensors")));

  // The report: the funnel table, tokens and cost, the samples with Thai text escaped.
  const std::string html = read_text(r.report_html);
  const size_t section = html.find("<h2>synth</h2>");
  ASSERT_NE(section, std::string::npos);
  EXPECT_NE(html.find("Synthetic data: rejection funnel", section), std::string::npos);
  EXPECT_NE(html.find("<tr><td>rejected: wrong_language</td><td>6</td></tr>", section), std::string::npos)
      << html.substr(section, 3000);
  EXPECT_NE(html.find("<tr><td>rejected: ungrounded</td><td>0</td></tr>", section), std::string::npos);
  EXPECT_NE(html.find("<tr><td>candidates</td><td>12</td></tr>", section), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"kept\"><th>kept</th><th>6</th></tr>", section), std::string::npos);
  EXPECT_NE(html.find("<th>completion tokens</th><td>42</td>", section), std::string::npos);
  EXPECT_NE(html.find("$0.0016", section), std::string::npos);
  EXPECT_NE(html.find("Synthetic data: sample outputs", section), std::string::npos);
  // Samples 0, 2 and 4: document 2's answer holds markup characters, escaped.
  EXPECT_NE(html.find("ขายหนังสือชื่อ &lt;ภาษาไทยวันละคำ&gt; &amp; พจนานุกรม", section), std::string::npos);
  EXPECT_EQ(html.find("<ภาษาไทยวันละคำ>"), std::string::npos);
  EXPECT_NE(html.find(thai_docs()[4][1], section), std::string::npos);

  // Nothing changed: every stage is skipped and the stub is not called again.
  auto again = pipeline::run_build(spec, {});
  EXPECT_EQ(again.ran, 0);
  EXPECT_EQ(stub.requests(), 6u);
  EXPECT_NE(read_text(again.report_html).find("rejected: wrong_language"), std::string::npos);

  // How the endpoint is called is not part of the fingerprint: still up to date.
  write_text(dir.file("p.yaml"),
             pipeline_yaml(dir, "work",
                           synth_stage(stub, "qa", "    concurrency: 2\n") + sft_stage(dir, "    from_synth: true\n")));
  auto spec_conc = pipeline::load_pipeline(dir.file("p.yaml"));
  EXPECT_EQ(pipeline::run_build(spec_conc, {}).ran, 0);

  // Another synth option reruns synth and sft.
  write_text(
      dir.file("p.yaml"),
      pipeline_yaml(dir, "work", synth_stage(stub, "qa", "    pairs: 4\n") + sft_stage(dir, "    from_synth: true\n")));
  auto spec2 = pipeline::load_pipeline(dir.file("p.yaml"));
  auto changed = pipeline::run_build(spec2, {});
  EXPECT_EQ(changed.ran, 2);
  EXPECT_EQ(stub.requests(), 12u);
}

TEST(BuildSynth, KilledSynthStageResumesWithoutLosingOrRepeatingRecords) {
  TempDir dir;
  write_inputs(dir);
  std::atomic<bool> slow{true}, hanging{false};
  StubJudge stub([&](const std::string&, const std::string& user) {
    // Document 5 (the third shard) hangs while the first build is alive, so the kill lands mid-stage.
    if (doc_of(user) == 4) hanging = true;
    while (slow && doc_of(user) == 4) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return qa_reply(user);
  });
  const std::string stage = synth_stage(stub, "qa", "    shard_chunks: 2\n    concurrency: 1\n");
  write_text(dir.file("p.yaml"), pipeline_yaml(dir, "work", stage));
  const pid_t pid = spawn_nativelm({"build", dir.file("p.yaml")}, dir.file("run.out"), dir.file("run.err"));
  ASSERT_GT(pid, 0);
  const std::string data = dir.file("work/synth/data");
  for (int i = 0; i < 600 && !hanging; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(hanging) << read_text(dir.file("run.err"));
  ASSERT_TRUE(fs::exists(data + "/part-00001.jsonl"));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  slow = false;
  EXPECT_FALSE(fs::exists(data + "/part-00002.jsonl"));
  EXPECT_FALSE(fs::exists(dir.file("work/synth/stage.json")));
  const size_t before = stub.requests();  // waits for the hanging answer to finish
  EXPECT_EQ(before, 5u);                  // documents 1-4, and 5's hanging request

  // The next build resumes the stage: only the last shard's documents are asked again.
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  EXPECT_EQ(r.ran, 1);  // curate had finished
  EXPECT_EQ(stub.requests() - before, 2u);
  json s = stage_summary(r, "synth");
  EXPECT_EQ(s["shards"], 3);
  EXPECT_EQ(s["shards_resumed"], 2);
  EXPECT_EQ(s["records"], 6);
  const auto records = synth_records(data);
  std::set<std::string> ids;
  for (const auto& rec : records) ids.insert(rec["id"].get<std::string>());
  EXPECT_EQ(records.size(), 6u);
  EXPECT_EQ(ids.size(), records.size());

  // The same bytes as a build that was never killed.
  write_text(dir.file("ref.yaml"), pipeline_yaml(dir, "ref", stage));
  auto ref_spec = pipeline::load_pipeline(dir.file("ref.yaml"));
  auto ref = pipeline::run_build(ref_spec, {});
  EXPECT_EQ(ref.ran, 2);
  EXPECT_EQ(records_text(data), records_text(dir.file("ref/synth/data")));
  EXPECT_EQ(stage_summary(ref, "synth")["synth"]["funnel"], s["synth"]["funnel"]);

  // Finished: a third build skips it.
  EXPECT_EQ(pipeline::run_build(spec, {}).ran, 0);
}

TEST(BuildSynth, RephrasingsJoinTheDocumentsLaterStagesRead) {
  TempDir dir;
  write_inputs(dir);
  write_tiny_chat_model(dir.file("base"), 16, 1, 512);
  StubJudge stub([](const std::string&, const std::string& user) { return rephrase_reply(user); });
  write_text(
      dir.file("p.yaml"),
      pipeline_yaml(dir, "work", synth_stage(stub, "rephrase") + sft_stage(dir, "    from_corpus: {min_words: 2}\n")));
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  ASSERT_EQ(r.ran, 3);
  const auto records = synth_records(dir.file("work/synth/data"));
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[1]["text"], join({thai_docs()[1][2], thai_docs()[1][3], thai_docs()[1][0], thai_docs()[1][1]}));
  EXPECT_EQ(stage_summary(r, "synth")["makes"], "documents");
  // from_corpus read the six curated documents and the six rephrasings.
  json fc = stage_summary(r, "sft")["from_corpus"];
  EXPECT_EQ(fc["documents"], 12);
  EXPECT_EQ(fc["source_stage"], "synth");
}

TEST(BuildSynth, NothingKeptFinishesSynthAndStopsSftWithAClearError) {
  TempDir dir;
  write_inputs(dir);
  // Every answer is prose, not pairs: all malformed.
  StubJudge stub([](const std::string&, const std::string&) { return StubReply{200, "ขอโทษ ฉันตอบไม่ได้"}; });
  write_text(dir.file("p.yaml"),
             pipeline_yaml(dir, "work", synth_stage(stub, "qa") + sft_stage(dir, "    from_synth: true\n")));
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  try {
    pipeline::run_build(spec, {});
    ADD_FAILURE() << "an sft stage ran without chats";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the synth stage kept no chats for the sft stage"), std::string::npos) << what;
    EXPECT_NE(what.find("p.yaml:"), std::string::npos) << what;
    EXPECT_NE(what.find("funnel"), std::string::npos) << what;
  }
  // The synth stage itself finished, with its funnel, and is not asked again.
  auto state = json::parse(read_text(dir.file("work/synth/stage.json")));
  EXPECT_EQ(state["summary"]["records"], 0);
  EXPECT_EQ(state["summary"]["synth"]["samples"].size(), 0u);
  EXPECT_EQ(stub.requests(), 6u);
  EXPECT_THROW(pipeline::run_build(spec, {}), Error);
  EXPECT_EQ(stub.requests(), 6u);
}

TEST(BuildSynth, InputsFilesJoinTheFingerprint) {
  TempDir dir;
  write_inputs(dir);
  StubJudge stub([](const std::string&, const std::string& user) { return qa_reply(user); });
  const std::string yaml = "work_dir: " + dir.file("work") + "\ninputs: [" + dir.file("in.jsonl") + "]\nstages:\n" +
                           synth_stage(stub, "qa", "    inputs: [" + dir.file("in.jsonl") + "]\n");
  write_text(dir.file("p.yaml"), yaml);
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  EXPECT_EQ(pipeline::run_build(spec, {}).ran, 1);
  EXPECT_EQ(synth_records(dir.file("work/synth/data")).size(), 6u);
  auto state = json::parse(read_text(dir.file("work/synth/stage.json")));
  ASSERT_EQ(state["options"]["input_files"].size(), 1u);
  EXPECT_FALSE(state["options"].contains("endpoint"));  // how the endpoint is reached is not an option of the output
  EXPECT_EQ(pipeline::run_build(spec, {}).ran, 0);
  EXPECT_EQ(stub.requests(), 6u);
  // One document fewer: the stage reruns from scratch (no shard of the old input is kept).
  std::string text = read_text(dir.file("in.jsonl"));
  write_text(dir.file("in.jsonl"), text.substr(0, text.rfind('\n', text.size() - 2) + 1));
  auto r = pipeline::run_build(spec, {});
  EXPECT_EQ(r.ran, 1);
  EXPECT_EQ(stub.requests(), 11u);
  EXPECT_EQ(synth_records(dir.file("work/synth/data")).size(), 5u);
  // A missing inputs file is an error naming it when the stage runs.
  fs::remove(dir.file("in.jsonl"));
  write_text(dir.file("other.jsonl"), text);
  write_text(dir.file("q.yaml"), "work_dir: " + dir.file("work2") + "\ninputs: [" + dir.file("other.jsonl") +
                                     "]\nstages:\n" +
                                     synth_stage(stub, "qa", "    inputs: [" + dir.file("in.jsonl") + "]\n"));
  auto spec2 = pipeline::load_pipeline(dir.file("q.yaml"));
  try {
    pipeline::run_build(spec2, {});
    ADD_FAILURE() << "a synth stage ran without its inputs";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("in.jsonl")), std::string::npos) << e.what();
  }
}

TEST(BuildSynth, TranslatedInstructionsTrainTheSftStage) {
  TempDir dir;
  write_inputs(dir);  // the pipeline's documents; translate reads only its inputs:
  write_tiny_chat_model(dir.file("base"), 16, 1, 512);
  const std::vector<std::pair<std::string, std::string>> table = {
      {"Where is the capital city of Thailand?", "เมืองหลวงของประเทศไทย อยู่ที่ไหน"},
      {"The capital of Thailand is Bangkok, on the Chao Phraya river.",
       "เมืองหลวงของประเทศไทยคือ กรุงเทพมหานคร ริมแม่น้ำเจ้าพระยา"},
      {"Which festival celebrates the Thai new year?", "เทศกาลใดเป็นการฉลอง ปีใหม่ของไทย"},
      {"Songkran celebrates the Thai new year every April.", "สงกรานต์ คือการฉลอง ปีใหม่ไทย ทุกเดือนเมษายน"}};
  std::string chats;
  for (size_t k = 0; k + 1 < table.size(); k += 2)
    chats += json{{"messages",
                   {{{"role", "user"}, {"content", table[k].first}},
                    {{"role", "assistant"}, {"content", table[k + 1].first}}}}}
                 .dump() +
             "\n";
  write_text(dir.file("instructions-en.jsonl"), chats);
  StubJudge stub([&](const std::string&, const std::string& user) {
    const size_t at = user.find("TEXT:\n");
    const std::string text = at == std::string::npos ? "" : user.substr(at + 6);
    for (const auto& [en, th] : table)
      if (text == en) return StubReply{200, th};
    return StubReply{400, ""};
  });
  write_text(dir.file("p.yaml"),
             pipeline_yaml(dir, "work",
                           synth_stage(stub, "translate", "    inputs: [" + dir.file("instructions-en.jsonl") + "]\n") +
                               sft_stage(dir, "    from_synth: true\n")));
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  ASSERT_EQ(r.ran, 3);
  EXPECT_EQ(stub.requests(), 4u);  // one per message
  const auto records = synth_records(dir.file("work/synth/data"));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1]["messages"][1]["content"], table[3].second);
  json s = stage_summary(r, "synth");
  EXPECT_EQ(s["makes"], "sft_data");
  EXPECT_EQ(s["synth"]["task"], "translate");
  json sft = stage_summary(r, "sft");
  EXPECT_EQ(sft["records"], 2);
  EXPECT_EQ(sft["from_synth"]["source_stage"], "synth");
  const std::string html = read_text(r.report_html);
  EXPECT_NE(html.find("<tr><td>records</td><td>2</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>rejected: placeholder_mismatch</td><td>0</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<b>" + table[0].second + "</b>"), std::string::npos);  // the instruction, translated
}

TEST(BuildSynth, JudgedPreferencePairsTrainTheDpoStage) {
  TempDir dir;
  write_inputs(dir);
  write_tiny_chat_model(dir.file("base"), 16, 1, 512);
  // Per prompt, the generator's first sample is a whole Thai text and the second its first clause;
  // the judge prefers the whole text in either order.
  std::map<std::string, size_t> doc_of_prompt;
  std::map<std::string, int> asked;
  std::string prompts;
  for (size_t k = 0; k < 3; ++k) {
    const std::string p = "เล่าเรื่อง " + thai_docs()[k][0] + " ให้ฟังหน่อย";
    doc_of_prompt[p] = k;
    prompts += json{{"prompt", p}}.dump() + "\n";
  }
  write_text(dir.file("prompts.jsonl"), prompts);
  StubJudge stub([&](const std::string& system, const std::string& user) {
    const size_t q = user.find("[User Question]\n");
    if (!system.empty() && q != std::string::npos) {
      const std::string first = first_answer(user);
      for (const auto& [p, k] : doc_of_prompt)
        if (first == join(thai_docs()[k])) return StubReply{200, "A is better. [[A]]"};
      return StubReply{200, "B is better. [[B]]"};
    }
    auto it = doc_of_prompt.find(user);
    if (it == doc_of_prompt.end()) return StubReply{400, ""};
    const auto& d = thai_docs()[it->second];
    return StubReply{200, asked[user]++ % 2 == 0 ? join(d) : d[0]};
  });
  write_text(dir.file("p.yaml"),
             "work_dir: " + dir.file("work") + "\ninputs: [" + dir.file("in.jsonl") + "]\nstages:\n" +
                 synth_stage(stub, "prefs", "    inputs: [" + dir.file("prompts.jsonl") + "]\n    concurrency: 1\n") +
                 "  dpo:\n    model: " + dir.file("base") +
                 "\n    from_synth: true\n    steps: 2\n    max_length: 512\n    batch_size: 2\n    log_every: 0\n");
  auto spec = pipeline::load_pipeline(dir.file("p.yaml"));
  auto r = pipeline::run_build(spec, {});
  ASSERT_EQ(r.ran, 2);
  const auto records = synth_records(dir.file("work/synth/data"));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0]["chosen"][0]["content"], join(thai_docs()[0]));
  json s = stage_summary(r, "synth");
  EXPECT_EQ(s["makes"], "dpo_data");
  // The chosen answer, cut at 400 bytes on a character boundary.
  const std::string sample = s["synth"]["samples"][0]["output"];
  const std::string ellipsis = "…";
  ASSERT_GT(join(thai_docs()[0]).size(), 400u);
  ASSERT_GT(sample.size(), ellipsis.size());
  EXPECT_EQ(sample.substr(sample.size() - ellipsis.size()), ellipsis);
  const std::string kept = sample.substr(0, sample.size() - ellipsis.size());
  EXPECT_LE(kept.size(), 400u);
  EXPECT_GE(kept.size(), 398u);  // Thai letters are 3 bytes
  EXPECT_EQ(join(thai_docs()[0]).rfind(kept, 0), 0u);
  json dpo = stage_summary(r, "dpo");
  EXPECT_EQ(dpo["pairs"], 3);
  EXPECT_EQ(dpo["from_synth"]["source_stage"], "synth");
  EXPECT_EQ(dpo["steps"], 2);
  const std::string html = read_text(r.report_html);
  EXPECT_NE(html.find("<tr><td>judge_requests</td><td>6</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>rejected: tie</td><td>0</td></tr>"), std::string::npos);
}

std::string load_error(const std::string& yaml) {
  try {
    pipeline::parse_pipeline(yaml, "p.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(BuildSynth, MisconfigurationsFailWhenLoadedNamingTheKey) {
  const std::string head = "work_dir: w\ninputs: [x]\nstages:\n";
  const std::string curate = "  curate:\n    steps: [normalize]\n";
  const std::string synth = "  synth:\n    endpoint: http://127.0.0.1:9/v1\n    lang: th\n";
  const std::string sft = "  sft:\n    model: m\n";
  // The tasks that make chats and pairs come from the task table, which grows.
  const std::string chat_tasks = pipeline::synth_task_names(pipeline::SynthOutput::SftData);
  const std::string pair_tasks = pipeline::synth_task_names(pipeline::SynthOutput::DpoData);
  auto expect = [](const std::string& err, const std::vector<std::string>& parts) {
    for (const auto& p : parts) EXPECT_NE(err.find(p), std::string::npos) << "missing '" << p << "' in: " << err;
  };
  expect(load_error(head + curate + synth + "    task: translat\n"),
         {"synth.task", "must be one of qa|rephrase", "got 'translat'", "p.yaml:"});
  expect(load_error(head + curate + synth + "    pairs: many\n"), {"synth.pairs", "many"});
  expect(load_error(head + curate + synth + "    output: o\n"), {"synth.output", "set by the pipeline"});
  expect(load_error(head + curate + "  synth:\n    lang: th\n"), {"synth.endpoint", "is required"});
  expect(load_error(head + synth), {"synth stage has no documents", "inputs"});
  expect(load_error(head + synth + "    task: rephrase\n    inputs: [docs.jsonl]\n"),
         {"task rephrase", "curate or dedup"});
  expect(load_error(head + curate + sft + "    from_synth: true\n"),
         {"sft stage's from_synth has no chats to train on", "no synth stage before it", "task: " + chat_tasks,
          "p.yaml:8"});
  expect(load_error(head + curate + synth + "    task: rephrase\n" + sft + "    from_synth: true\n"),
         {"from_synth has no chats to train on", "task: " + chat_tasks});
  expect(load_error(head + curate + synth + sft + "    from_synth: often\n"),
         {"sft.from_synth", "must be true or false", "often"});
  expect(load_error(head + curate + synth + sft + "    from_synth: [true]\n"),
         {"sft.from_synth", "must be true or false"});
  expect(load_error(head + curate + synth + sft + "    from_synth: true\n    data: [d.jsonl]\n"),
         {"sft.from_synth and data are both given"});
  expect(load_error(head + curate + synth + sft + "    from_synth: true\n    from_corpus: {}\n"),
         {"sft.from_synth and from_corpus are both given"});
  expect(load_error(head + curate + synth + "  dpo:\n    model: m\n    from_synth: true\n"),
         {"dpo stage's from_synth has no preference pairs",
          pair_tasks.empty() ? "no synth task makes preference pairs yet" : "task: " + pair_tasks});
  expect(load_error(head + curate + synth + "    task: translate\n"),
         {"task translate reads only the files in synth.inputs", "SFT records"});
  expect(load_error(head + curate + synth + "    task: prefs\n"),
         {"task prefs reads only the files in synth.inputs", "prompts"});
  // Well-formed: qa feeding sft; synth reading its own inputs with no curate stage; prefs feeding dpo.
  EXPECT_EQ(load_error(head + curate + synth + sft + "    from_synth: true\n"), "(no error)");
  EXPECT_EQ(load_error(head + synth + "    inputs: [docs.jsonl]\n"), "(no error)");
  EXPECT_EQ(load_error(head + synth +
                       "    task: prefs\n    inputs: [prompts.jsonl]\n  dpo:\n    model: m\n"
                       "    from_synth: true\n"),
            "(no error)");
  // docs/pipeline.md's example loads.
  const std::string doc = read_text(std::string(NATIVELM_SOURCE_DIR) + "/docs/pipeline.md");
  const size_t at = doc.find("name: Thai chat model");
  ASSERT_NE(at, std::string::npos);
  auto example = pipeline::parse_pipeline(doc.substr(at, doc.find("```", at) - at), "docs/pipeline.md");
  EXPECT_EQ(example.stages.size(), 3u);
  // Without from_synth the sft stage's options are the command's: no from_synth key.
  auto spec = pipeline::parse_pipeline(head + curate + synth + sft + "    data: [d.jsonl]\n", "p.yaml");
  EXPECT_EQ(spec.stages.back()->options_json().find("from_synth"), std::string::npos);
}

}  // namespace
