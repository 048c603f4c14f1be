// The option tables in docs/ are generated from the options' declarations: this test fails when
// a page's table differs from its declaration, and rewrites the page when NATIVELM_UPDATE_DOCS=1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_paths.h"
#include "pipeline/option_tables.h"

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(OptionDocs, EveryTableMatchesItsDeclaration) {
  const bool update = std::getenv("NATIVELM_UPDATE_DOCS") != nullptr;
  for (const auto& t : nlm::pipeline::option_tables()) {
    std::string path = std::string(NATIVELM_SOURCE_DIR) + "/" + t.page;
    std::string page = read_all(path);
    std::string open = "<!-- options:" + t.name + " -->\n", close = "<!-- /options:" + t.name + " -->";
    size_t a = page.find(open), b = page.find(close);
    ASSERT_NE(a, std::string::npos) << t.page << " lacks the marker " << open;
    ASSERT_NE(b, std::string::npos) << t.page << " lacks the marker " << close;
    ASSERT_LT(a, b);
    std::string current = page.substr(a + open.size(), b - a - open.size());
    std::string wanted = t.markdown();
    if (update && current != wanted) {
      page.replace(a + open.size(), b - a - open.size(), wanted);
      std::ofstream(path, std::ios::binary) << page;
      continue;
    }
    EXPECT_EQ(current, wanted) << t.page << ": the '" << t.name
                               << "' table differs from its declaration; regenerate with "
                                  "NATIVELM_UPDATE_DOCS=1 build/test_pipeline --gtest_filter=OptionDocs.*";
  }
}

TEST(OptionDocs, TablesListEveryKey) {
  // A table is not empty and has one row per line after the header.
  for (const auto& t : nlm::pipeline::option_tables()) {
    std::string md = t.markdown();
    EXPECT_EQ(md.rfind("| key | flag | default | description |\n", 0), 0u) << t.name;
    EXPECT_GT(std::count(md.begin(), md.end(), '\n'), 2) << t.name;
  }
}

}  // namespace
