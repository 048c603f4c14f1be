// Entry point of the `nativelm` executable: global flags, dispatch to the selected subcommand's
// action, and the one place where errors become the uniform "nativelm: error: ..." line and an
// exit code (2 usage, 1 runtime).
#include <csignal>
#include <cstdio>
#include <new>

#include "cli/command.h"
#include "core/error.h"
#include "core/options.h"
#include "core/runtime.h"

namespace {

std::string command_path(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a && a->get_parent(); a = a->get_parent())
    path = a->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

const CLI::App* selected_leaf(const CLI::App& root) {
  const CLI::App* cur = &root;
  for (;;) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) return cur;
    cur = subs.front();
  }
}

int fail(const std::string& message, int code) {
  // The last guard for every error path (CLI11's messages and internal errors included): one line,
  // no control characters, no library exception text, no 100 KB echo.
  std::fprintf(stderr, "nativelm: error: %s\n", nlm::clean_message(message).c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "nativelm: build a language model for your language in one native program: curate raw text,\n"
      "deduplicate, train a tokenizer, tokenize, pretrain on the CPU, fine-tune (SFT, DPO),\n"
      "evaluate, generate, chat, serve over the OpenAI API and export to GGUF for llama.cpp.\n"
      "Run 'nativelm <command> --help' for a command's options; '--print-options' shows what a\n"
      "command would run with."};
  app.name("nativelm");
  app.require_subcommand(1);
  app.fallthrough();
  nlm::RuntimeOptions runtime;
  app.add_option("--threads", runtime.threads, "Worker threads (0 = one per core)")
      ->check(CLI::Validator(
          [](std::string& value) {  // parsed like every option value (CLI11's range text is 300 digits)
            try {
              nlm::opt::parse_uint(value, "threads");
              return std::string();
            } catch (const nlm::opt::OptionError& e) {
              return e.problem();
            }
          },
          "N"))
      ->capture_default_str();
  app.add_flag("-q,--quiet", runtime.quiet, "No progress lines or informational messages");

  nlm::cli::Actions actions;
  nlm::cli::setup_all(app, actions);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const CLI::App* leaf = selected_leaf(app);
    std::string where = command_path(leaf);
    std::string what = e.what();
    if (argc <= 1) what = "no command given";
    return fail(nlm::format_error(what, where.empty() ? "nativelm" : "nativelm " + where,
                                  "see 'nativelm" + (where.empty() ? "" : " " + where) + " --help'"),
                2);
  } catch (const nlm::Error& e) {
    return fail(e.what(), e.exit_code());
  }

  nlm::set_runtime_options(runtime);
  const CLI::App* leaf = selected_leaf(app);
  auto it = actions.find(leaf);
  if (it == actions.end())
    return fail("command '" + command_path(leaf) + "' needs a subcommand (see 'nativelm " +
                    command_path(leaf) + " --help')",
                2);
  try {
    int rc = it->second();
    if (std::fflush(stdout) != 0) return fail("cannot write to standard output", 1);
    return rc;
  } catch (const nlm::Error& e) {
    return fail(e.what(), e.exit_code());
  } catch (const std::bad_alloc&) {
    return fail("out of memory (nativelm " + command_path(leaf) +
                    "); lower --threads or the stage's memory options",
                1);
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what() + " (nativelm " + command_path(leaf) +
                    "); please report this with the command line",
                1);
  }
}
