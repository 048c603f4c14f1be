// `lid train` + the fasttext lid backend: a model trained on Cantonese and Mandarin sentences
// tells held-out sentences apart, which CLD2 cannot (it calls both "zh").
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "curate/curate.h"
#include "curate/lid.h"
#include "curate/lid_train.h"
#include "test_util.h"

namespace {
using namespace nlm::curate;

const char* kYue[] = {"我哋今日去咗銀行攞錢", "佢話聽日唔得閒嚟食飯", "你食咗飯未呀", "呢度啲嘢好平，不如買多啲",
                      "佢哋喺屋企睇緊電視", "我唔知佢講乜嘢", "嗰間餐廳啲嘢食幾好食", "你係咪識講廣東話㗎",
                      "佢啱啱先至返到嚟", "冇問題，我幫你搞掂佢", "你而家喺邊度呀", "佢好鍾意去行山",
                      "我哋一齊去飲茶啦", "唔該你講慢啲", "今日天氣好熱，唔想出街"};
const char* kZh[] = {"我们今天去了银行取钱", "他说明天没有空来吃饭", "你吃饭了吗", "这里的东西很便宜，不如多买一些",
                     "他们在家里看电视", "我不知道他在说什么", "那家餐厅的菜很好吃", "你是不是会说普通话",
                     "他刚刚才回来", "没问题，我帮你处理好", "你现在在哪里", "他很喜欢去爬山",
                     "我们一起去喝茶吧", "请你说慢一点", "今天天气很热，不想出门"};

TEST(CurateLidTrain, TrainsAModelThatSeparatesCantoneseFromMandarin) {
  nlm::testing::TempDir dir;
  std::string data;
  for (int rep = 0; rep < 4; ++rep) {
    for (const char* s : kYue) data += nlohmann::json{{"text", s}, {"lang", "yue"}}.dump() + "\n";
    for (const char* s : kZh) data += nlohmann::json{{"text", s}, {"lang", "zh"}}.dump() + "\n";
  }
  data += "{\"text\": \"no label here\"}\n";
  nlm::testing::write_text(dir.file("train.jsonl"), data);
  LidTrainOptions o;
  o.output = dir.file("model/lid.bin");
  LidTrainResult r = train_lid({dir.file("train.jsonl")}, o);
  EXPECT_EQ(r.examples, 120u);
  EXPECT_EQ(r.unlabelled, 1u);
  EXPECT_EQ(r.labels["yue"], 60u);

  LidOptions lo;
  lo.backend = "fasttext";
  lo.model = o.output;
  LanguageDetector d(lo);
  EXPECT_EQ(d.detect("佢哋今日唔喺度，你聽日再嚟啦").lang, "yue");
  EXPECT_EQ(d.detect("他们今天不在，你明天再来吧").lang, "zh");
  EXPECT_GT(d.detect("佢哋今日唔喺度").score, 0.5);

  // Quantised on two threads: a fraction of the size, and it still tells the two apart.
  LidTrainOptions q = o;
  q.output = dir.file("model/lid.ftz");
  q.quantize = true;
  q.threads = 2;
  q.bucket = 20000;  // product quantisation runs k-means over every bucket row
  train_lid({dir.file("train.jsonl")}, q);
  EXPECT_LT(std::filesystem::file_size(q.output) * 4, std::filesystem::file_size(o.output));
  lo.model = q.output;
  LanguageDetector dq(lo);
  EXPECT_EQ(dq.detect("佢哋今日唔喺度，你聽日再嚟啦").lang, "yue");
  EXPECT_EQ(dq.detect("他们今天不在，你明天再来吧").lang, "zh");

  nlm::testing::write_text(dir.file("empty.jsonl"), "{\"text\": \"x\"}\n");
  EXPECT_THROW(train_lid({dir.file("empty.jsonl")}, o), nlm::Error);
}

// The recipe of docs/curate.md: CLD2 first, and a trained yue/zh model for what CLD2 calls
// Chinese. `--lang yue` alone is a usage error (CLD2 cannot emit yue); with the second stage the
// curate run keeps the Cantonese documents and drops the Mandarin and English ones.
TEST(CurateLidTrain, ASecondModelDecidesWhatCld2CallsChinese) {
  nlm::testing::TempDir dir;
  std::string data;
  for (int rep = 0; rep < 4; ++rep) {
    for (const char* s : kYue) data += nlohmann::json{{"text", s}, {"lang", "yue"}}.dump() + "\n";
    for (const char* s : kZh) data += nlohmann::json{{"text", s}, {"lang", "zh"}}.dump() + "\n";
  }
  nlm::testing::write_text(dir.file("train.jsonl"), data);
  LidTrainOptions t;
  t.output = dir.file("yue-zh.bin");
  train_lid({dir.file("train.jsonl")}, t);

  LidOptions lid;
  lid.languages = {"yue"};
  EXPECT_THROW(LanguageId{lid}, nlm::Error);  // CLD2 alone cannot keep Cantonese
  lid.refine_model = t.output;
  lid.refine_when = {"zh"};  // also covers CLD2's zh-Hant
  LanguageId step(lid);

  std::string docs;
  const char* yue[] = {"佢哋今日唔喺度，你聽日再嚟啦。我哋一齊去飲茶，好唔好呀？", "呢間舖頭啲嘢好平，不如我哋買多啲返屋企啦。"};
  const char* zh[] = {"他们今天不在，你明天再来吧。我们一起去喝茶，好不好？", "这家商店的东西很便宜，不如我们多买一些回家吧。"};
  for (int i = 0; i < 2; ++i) {
    docs += nlohmann::json{{"id", "yue" + std::to_string(i)}, {"text", yue[i]}}.dump() + "\n";
    docs += nlohmann::json{{"id", "zh" + std::to_string(i)}, {"text", zh[i]}}.dump() + "\n";
  }
  docs += nlohmann::json{{"id", "en"}, {"text", "The library opens at nine in the morning and closes at six."}}.dump() + "\n";
  nlm::testing::write_text(dir.file("in.jsonl"), docs);
  CurateOptions o;
  o.output_dir = dir.file("out");
  o.extension = ".jsonl";
  o.chain.steps = {"lid"};
  o.chain.lid = lid;
  CurateReport r = run_curate({dir.file("in.jsonl")}, o);
  std::string kept = nlm::testing::read_text(dir.file("out/part-00000.jsonl"));
  EXPECT_EQ(r.stats.docs_out, 2u) << kept;
  EXPECT_NE(kept.find("\"yue0\""), std::string::npos) << kept;
  EXPECT_NE(kept.find("\"yue1\""), std::string::npos) << kept;
  EXPECT_NE(kept.find("\"lang_first\""), std::string::npos) << kept;  // what CLD2 said first
  // Only what CLD2 called Chinese went to the second model (the English document did not).
  EXPECT_GE(r.stats.counters["lid"]["refined"], 2u);
  EXPECT_LE(r.stats.counters["lid"]["refined"], 4u);

  lid.refine_when.clear();
  nlm::opt::Schema schema("lid");
  LidOptions bad = lid;
  declare(schema, bad);
  EXPECT_THROW(schema.resolve(), nlm::opt::OptionError);  // a model without its codes
}

}  // namespace
