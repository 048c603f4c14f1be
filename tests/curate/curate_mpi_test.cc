// `mpirun -np 2|3 nativelm curate` gives the bytes of one process (kept shards and rejects), runs
// every shard once, reports its rank count, and a rerun under MPI skips the finished shards.
// Skipped only when mpirun is absent.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "test_util.h"
#include "warc_fixtures.h"

namespace {

using nlm::testing::read_text;
using nlm::testing::TempDir;
using nlm::testing::write_text;

const char* kBasque =
    "Euskara Euskal Herriko hizkuntza da, eta gaur egun milioi bat hiztun inguru ditu. Hizkuntza "
    "isolatua da: ez du ahaidetasunik ezagutzen Europako beste hizkuntzekin. Idazle askok euskaraz "
    "idatzi dute mendeetan zehar, eta gaur egun eskoletan irakasten da, baita unibertsitatean ere.\n\n"
    "Herri txiki hartan liburutegi berria ireki zuten udaberrian, eskola zaharra auzokideek konpondu "
    "ondoren. Familiek liburu asko eman zituzten, eta haur askok ipuinak irakurtzen zituzten arratsaldero. "
    "Udaren amaieran, irakurketa gela nekazarien eta ikasleen topagune bihurtu zen.";

// Every part-NNNNN.jsonl of `dir`, in order, with its name.
std::string shards_of(const std::string& dir) {
  std::string all;
  for (int i = 0;; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/part-%05d.jsonl", i);
    if (!std::filesystem::exists(dir + name)) break;
    all += std::string(name) + "\n" + read_text(dir + name);
  }
  return all;
}

TEST(CurateMpi, RanksGiveTheSameBytesAsOneProcess) {
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  // Seven inputs of uneven size: prose in four languages, junk lines, a malformed record, and a
  // WARC with a page that gives no text (a reject from the source itself).
  const std::string prose[] = {nlm::testing::kEnglish, nlm::testing::kGerman, nlm::testing::kFrench,
                               nlm::testing::kChinese, kBasque};
  for (int f = 0; f < 6; ++f) {
    std::string s;
    for (int i = 0; i <= f * 3; ++i) {
      s += nlohmann::json{{"id", std::to_string(f) + "-" + std::to_string(i)},
                          {"text", prose[(f + i) % 5] + " " + std::to_string(i)}}
               .dump() +
           "\n";
      s += nlohmann::json{{"id", "junk-" + std::to_string(i)}, {"text", "click here click here $$$ 123"}}.dump() + "\n";
    }
    if (f == 3) s += "{not json\n";
    write_text(dir.file("in/" + std::to_string(f) + ".jsonl"), s);
  }
  using namespace nlm::testing;
  write_text(dir.file("in/6.warc"),
             record("response", "http://eu.example/a",
                    http("text/html", "<html><body><article><p>" + std::string(kBasque) + "</p></article></body></html>")) +
                 record("response", "http://eu.example/empty", http("text/html", "<html><body></body></html>")));
  const std::string args = "-q curate " + dir.file("in") + " --extension .jsonl --lang eu,en,de,fr,zh ";
  auto run = [&](int np, const std::string& out) {
    std::string cmd = (np == 1 ? std::string()
                               : "mpirun --allow-run-as-root --oversubscribe --mca pml ob1 --mca btl self,vader -np " +
                                     std::to_string(np) + " ") +
                      NATIVELM_BIN + " " + args + "-o " + out + "/kept --rejects " + out + "/rejects >" +
                      dir.file("log") + " 2>&1";
    return std::system(cmd.c_str());
  };
  ASSERT_EQ(run(1, dir.file("one")), 0) << read_text(dir.file("log"));
  const std::string kept = shards_of(dir.file("one/kept")), rejects = shards_of(dir.file("one/rejects"));
  ASSERT_NE(kept.find("Euskara"), std::string::npos);
  ASSERT_NE(rejects.find("click here"), std::string::npos);
  ASSERT_NE(rejects.find("html.no_text"), std::string::npos);
  auto one = nlohmann::json::parse(read_text(dir.file("one/kept/report.json")));
  for (int np : {2, 3}) {
    std::string out = dir.file("np" + std::to_string(np));
    ASSERT_EQ(run(np, out), 0) << read_text(dir.file("log"));
    EXPECT_EQ(shards_of(out + "/kept"), kept) << np << " ranks";
    EXPECT_EQ(shards_of(out + "/rejects"), rejects) << np << " ranks";
    auto report = nlohmann::json::parse(read_text(out + "/kept/report.json"));
    EXPECT_EQ(report["ranks"], np);
    EXPECT_EQ(report["funnel"], one["funnel"]);
    EXPECT_EQ(report["removed_by_reason"], one["removed_by_reason"]);
    EXPECT_EQ(report["read"], one["read"]);
    EXPECT_EQ(report["shards"], 7);
    EXPECT_EQ(report["shards_skipped"], 0);
    EXPECT_TRUE(std::filesystem::exists(out + "/kept/manifest.json"));
  }
  // A rerun on 2 ranks finds every shard done.
  ASSERT_EQ(run(2, dir.file("np3")), 0) << read_text(dir.file("log"));
  auto again = nlohmann::json::parse(read_text(dir.file("np3/kept/report.json")));
  EXPECT_EQ(again["shards_skipped"], 7);
  EXPECT_EQ(again["funnel"], one["funnel"]);
  EXPECT_EQ(shards_of(dir.file("np3/kept")), kept);
}

}  // namespace
