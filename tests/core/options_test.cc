// The options mechanism: unit parsers, typed fields with bounds, derive/check steps, the options
// JSON, Markdown tables, and YAML with file:line errors. Every front end relies on these.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "core/options.h"
#include "core/options_yaml.h"

namespace opt = nlm::opt;

namespace {

enum class Shape { Round, Square };

struct Demo {
  int count = 3;
  double rate = 0.5;
  bool on = true;
  std::string name = "x";
  std::vector<std::string> tags;
  uint64_t memory = 1ull << 30;
  Shape shape = Shape::Round;
  double timeout = 90;
  int nested_depth = 2;
};

void declare(opt::Schema& s, Demo& d) {
  s.add("count", d.count, "How many").range(1, 10);
  s.add("rate", d.rate, "A rate").range(0, 1);
  s.add("on", d.on, "Switch").flag("--no-on");
  s.add("name", d.name, "A name");
  s.add("tags", d.tags, "Tags");
  s.size("memory", d.memory, "Budget");
  s.choice("shape", d.shape, {{"round", Shape::Round}, {"square", Shape::Square}, {"box", Shape::Square}}, "Shape");
  s.duration("timeout", d.timeout, "Timeout");
  s.add("nested.depth", d.nested_depth, "Depth").min(0);
  s.check([&d] {
    if (d.shape == Shape::Square && d.count > 4) opt::fail("count", "must be at most 4 for square shapes");
  });
}

std::string problem_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const opt::OptionError& e) {
    return e.key() + ": " + e.problem();
  } catch (const nlm::Error& e) {
    return std::string("error: ") + e.what();
  }
  return "no error";
}

TEST(OptionUnits, Sizes) {
  EXPECT_EQ(opt::parse_size("512M"), 512ull << 20);
  EXPECT_EQ(opt::parse_size("4G"), 4ull << 30);
  EXPECT_EQ(opt::parse_size("4GiB"), 4ull << 30);
  EXPECT_EQ(opt::parse_size("64kb"), 64ull << 10);
  EXPECT_EQ(opt::parse_size("1.5G"), 1536ull << 20);
  EXPECT_EQ(opt::parse_size("1500000"), 1500000u);
  EXPECT_EQ(opt::parse_size("0", "m", true), 0u);
  EXPECT_EQ(problem_of([] { opt::parse_size("0", "memory"); }), "memory: must be more than zero, got '0'");
  EXPECT_EQ(problem_of([] { opt::parse_size("lots", "memory"); }), "memory: must be a size, got 'lots'");
  EXPECT_EQ(problem_of([] { opt::parse_size("12Q", "memory"); }), "memory: has an unknown unit in '12Q'");
  EXPECT_EQ(problem_of([] { opt::parse_size("-1G", "memory"); }), "memory: must be a size, got '-1G'");
  EXPECT_EQ(opt::size_text(1ull << 30), "1G");
  EXPECT_EQ(opt::size_text(1536ull << 20), "1536M");
  EXPECT_EQ(opt::size_text(1000), "1000");
}

TEST(OptionUnits, Durations) {
  EXPECT_DOUBLE_EQ(opt::parse_duration("90s"), 90);
  EXPECT_DOUBLE_EQ(opt::parse_duration("15m"), 900);
  EXPECT_DOUBLE_EQ(opt::parse_duration("1h30m"), 5400);
  EXPECT_DOUBLE_EQ(opt::parse_duration("250ms"), 0.25);
  EXPECT_DOUBLE_EQ(opt::parse_duration("30"), 30);
  EXPECT_EQ(problem_of([] { opt::parse_duration("soon", "t"); }), "t: must be a duration, got 'soon'");
  EXPECT_EQ(problem_of([] { opt::parse_duration("3y", "t"); }), "t: has an unknown unit 'y' in '3y'");
  EXPECT_EQ(opt::duration_text(7200), "2h");
  EXPECT_EQ(opt::duration_text(5400), "90m");
  EXPECT_EQ(opt::duration_text(90), "90s");
}

TEST(OptionUnits, IdListsAreRangeChecked) {
  EXPECT_EQ(opt::parse_id_list({"1,2,5-7"}, "ids"), (std::vector<uint32_t>{1, 2, 5, 6, 7}));
  EXPECT_EQ(opt::parse_id_list({"3", "0"}, "ids", 4), (std::vector<uint32_t>{3, 0}));
  EXPECT_NE(problem_of([] { opt::parse_id_list({"4"}, "ids", 4); }).find("outside the vocabulary of 4"),
            std::string::npos);
  EXPECT_NE(problem_of([] { opt::parse_id_list({"-3"}, "ids"); }).find("must be a non-negative integer"),
            std::string::npos);
  EXPECT_NE(problem_of([] { opt::parse_id_list({"7-5"}, "ids"); }).find("runs backwards"), std::string::npos);
  EXPECT_NE(problem_of([] { opt::parse_id_list({"1,,2"}, "ids"); }).find("empty id"), std::string::npos);
  EXPECT_NE(problem_of([] { opt::parse_id_list({"99999999999"}, "ids"); }).find("too large"), std::string::npos);
}

TEST(OptionUnits, StrictScalars) {
  EXPECT_EQ(opt::parse_int("-12", "n"), -12);
  EXPECT_EQ(problem_of([] { opt::parse_int("12x", "n"); }), "n: must be an integer, got '12x'");
  EXPECT_EQ(problem_of([] { opt::parse_int("99999999999999999999", "n"); }),
            "n: is out of range, got '99999999999999999999'");
  EXPECT_EQ(problem_of([] { opt::parse_real("nan", "x"); }), "x: must be a number, got 'nan'");
  EXPECT_EQ(problem_of([] { opt::parse_bool("maybe", "b"); }), "b: must be true or false, got 'maybe'");
  EXPECT_EQ(opt::real_text(0.1), "0.1");
  EXPECT_EQ(opt::real_text(3e-5), "3e-05");
}

TEST(OptionSchema, FieldsParseCheckAndPrint) {
  Demo d;
  opt::Schema s("demo");
  declare(s, d);
  EXPECT_EQ(s.to_json(),
            R"({"count":3,"rate":0.5,"on":true,"name":"x","tags":[],"memory":"1G","shape":"round",)"
            R"("timeout":90,"nested":{"depth":2}})");
  s.find("count")->assign("7");
  s.find("shape")->assign("box");
  s.find("tags")->assign(std::vector<std::string>{"a", "b"});
  EXPECT_EQ(d.count, 7);
  EXPECT_EQ(d.shape, Shape::Square);
  EXPECT_EQ(d.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(s.given("count"));
  EXPECT_FALSE(s.given("rate"));
  EXPECT_EQ(problem_of([&] { s.resolve(); }), "count: must be at most 4 for square shapes");
  EXPECT_EQ(problem_of([&] { s.find("count")->assign("11"); }), "count: must be between 1 and 10, got 11");
  EXPECT_EQ(problem_of([&] { s.find("shape")->assign("oval"); }), "shape: must be one of round|square, got 'oval'");
  EXPECT_EQ(problem_of([&] { s.find("count")->assign(std::vector<std::string>{"1", "2"}); }),
            "count: takes one value, got a list of 2");
  EXPECT_EQ(s.find("on")->flags, "--no-on");
  EXPECT_EQ(s.find("nested.depth")->flags, "--nested-depth");
}

TEST(OptionSchema, MarkdownTable) {
  Demo d;
  opt::Schema s("demo");
  declare(s, d);
  std::string md = s.markdown();
  EXPECT_NE(md.find("| `memory` | `--memory` | `1G` | Budget (SIZE) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `shape` | `--shape` | `round` | Shape (round\\|square) |"), std::string::npos) << md;
}

TEST(OptionsYaml, AppliesNestedKeysListsAndUnits) {
  Demo d;
  opt::Schema s("demo");
  declare(s, d);
  opt::apply_yaml_text(s, "count: 2\nmemory: 512M\ntags: [a, b]\nnested: {depth: 5}\ntimeout: 2h\n",
                       {"cfg.yaml", "demo"});
  EXPECT_EQ(d.count, 2);
  EXPECT_EQ(d.memory, 512ull << 20);
  EXPECT_EQ(d.tags.size(), 2u);
  EXPECT_EQ(d.nested_depth, 5);
  EXPECT_DOUBLE_EQ(d.timeout, 7200);
}

TEST(OptionsYaml, ReadingNestedKeysLeavesTheDocumentAlone) {
  Demo d;
  opt::Schema s("demo");
  declare(s, d);
  YAML::Node root = YAML::Load("count: 2\nnested: {depth: 5}\nname: y\n");
  std::string before = YAML::Dump(root);
  opt::apply_yaml(s, root, {"cfg.yaml", "demo"});
  opt::apply_yaml(s, root, {"cfg.yaml", "demo"});
  EXPECT_EQ(YAML::Dump(root), before);
  EXPECT_EQ(d.nested_depth, 5);
  EXPECT_EQ(d.name, "y");
}

// A schema with many keys (train has 50) no longer lists them all in the error, which made a
// 900-byte line (found by the test binaries' message check); the nearest keys are suggested.
TEST(OptionsYaml, UnknownKeyOfALargeSchemaSuggestsTheNearest) {
  std::vector<int64_t> values(40);
  opt::Schema s("big");
  for (size_t i = 0; i < values.size(); ++i) s.add("option_number_" + std::to_string(i), values[i], "doc");
  std::string m = problem_of([&] { opt::apply_yaml_text(s, "option_numbr_7: 1\n", {"big.yaml", "big"}); });
  EXPECT_EQ(m, "error: unknown key 'big.option_numbr_7' (big.yaml:1); did you mean 'option_number_7'? the 40 keys "
               "are listed by --help and in docs/");
  EXPECT_LE(m.size(), 300u);
  m = problem_of([&] { opt::apply_yaml_text(s, "zzz: 1\n", {"big.yaml", "big"}); });
  EXPECT_EQ(m, "error: unknown key 'big.zzz' (big.yaml:1); the 40 keys are listed by --help and in docs/");
}

TEST(OptionsYaml, ErrorsNameKeyAndLine) {
  auto err = [](const std::string& yaml) {
    Demo d;
    opt::Schema s("demo");
    declare(s, d);
    return problem_of([&] { opt::apply_yaml_text(s, yaml, {"cfg.yaml", "demo"}); });
  };
  EXPECT_EQ(err("count: 2\nrate: lots\n"), "error: demo.rate must be a number, got 'lots' (cfg.yaml:2)");
  EXPECT_EQ(err("count: 0\n"), "error: demo.count must be between 1 and 10, got 0 (cfg.yaml:1)");
  EXPECT_EQ(err("name: x\ncuont: 2\n").rfind("error: unknown key 'demo.cuont' (cfg.yaml:2); known keys: count, rate", 0),
            0u);
  EXPECT_EQ(err("nested: {depht: 1}\n").rfind("error: unknown key 'demo.nested.depht' (cfg.yaml:1); known keys: depth", 0),
            0u);
  EXPECT_EQ(err("count: [1, 2]\n"), "error: demo.count must be a single value (N) (cfg.yaml:1)");
  EXPECT_EQ(err("tags: {a: 1}\n"), "error: demo.tags must be a list (cfg.yaml:1)");
  EXPECT_EQ(err("nested: 3\n"), "error: demo.nested must be a mapping of key: value (cfg.yaml:1)");
  EXPECT_EQ(err("- a\n- b\n"), "error: 'demo' must be a mapping of key: value (cfg.yaml:1)");
  EXPECT_EQ(err("count: [\n").rfind("error: invalid YAML", 0), 0u);
  EXPECT_EQ(err(""), "no error");
}

TEST(OptionsYaml, NamerRenamesLibraryErrors) {
  YAML::Node node = YAML::Load("a: 1\nmemory: 2G\n");
  opt::Namer n = opt::yaml_namer(node, {"p.yaml", "dedup"});
  EXPECT_EQ(problem_of([&] { opt::named(n, [] { opt::fail("memory", "is too small", "raise it"); }); }),
            "error: dedup.memory is too small (p.yaml:2); raise it");
  EXPECT_EQ(problem_of([&] { opt::named(n, [] { opt::fail("bands", "is bad"); }); }),
            "error: dedup.bands is bad (p.yaml:1)");
}

}  // namespace

// An absent nested key looked up before other keys must leave the mapping intact (yaml-cpp's
// operator= on a bound node overwrites the node it refers to).
TEST(OptionsYaml, AbsentNestedKeyLeavesTheOtherKeysApplied) {
  int depth = 1, count = 1;
  opt::Schema s("demo");
  s.add("nested.depth", depth, "Depth");
  s.add("count", count, "Count");
  opt::apply_yaml_text(s, "count: 3\n", {"cfg.yaml", "demo"});
  EXPECT_EQ(count, 3);
  EXPECT_EQ(depth, 1);
  opt::apply_yaml_text(s, "nested: {}\ncount: 4\n", {"cfg.yaml", "demo"});
  EXPECT_EQ(count, 4);
}
