// The static registry of subcommand setup functions.
#include "cli/command.h"

#include <algorithm>
#include <vector>

namespace nlm::cli {
namespace {
std::vector<std::pair<int, Setup>>& registry() {
  static std::vector<std::pair<int, Setup>> r;
  return r;
}
}  // namespace

Registration::Registration(int order, Setup setup) { registry().emplace_back(order, setup); }

void setup_all(CLI::App& root, Actions& actions) {
  auto& r = registry();
  std::stable_sort(r.begin(), r.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (auto& [order, setup] : r) setup(root, actions);
}

CLI::App& group(CLI::App& root, const std::string& name, const std::string& description) {
  for (CLI::App* sub : root.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == name) return *sub;
  CLI::App* g = root.add_subcommand(name, description);
  g->require_subcommand(1);
  return *g;
}

}  // namespace nlm::cli
