// Every options struct's declaration, by name, with the docs page whose table shows it. The docs
// tables are generated from here (tests/pipeline/option_docs_test.cc checks them in CI and
// rewrites them with NATIVELM_UPDATE_DOCS=1), so docs/ cannot drift from the structs.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace nlm::pipeline {

struct OptionTable {
  std::string name;                     // table name in the page's marker: <!-- options:NAME -->
  std::string page;                     // docs/ page, relative to the source root
  std::function<std::string()> markdown;  // the table, from the declaration over defaults
};

const std::vector<OptionTable>& option_tables();

}  // namespace nlm::pipeline
