// manifest.json: what produced an output folder (tool version, stage, options), from what inputs
// (size + hash) and what it holds (files with counts + hash). Reruns compare a new plan against
// the stored manifest and skip work whose inputs and options are unchanged.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nlm {

struct FileEntry {
  std::string path;      // as given (inputs) or relative to the manifest's folder (outputs)
  uint64_t bytes = 0;    // file size
  std::string hash;      // XXH3-128 hex of the file's bytes
  uint64_t records = 0;  // documents, tokens... whatever the stage counts; 0 if not applicable
};

struct Manifest {
  std::string tool = "nativelm";
  std::string version;          // filled with NATIVELM_VERSION when empty
  std::string stage;            // e.g. "corpus.shard", "curate"
  std::string options_json = "{}";  // the stage's options as a JSON object (canonical order)
  std::vector<FileEntry> inputs;
  std::vector<FileEntry> outputs;
  double seconds = 0;           // wall time of the run
  std::string finished_at;      // ISO-8601 UTC; filled on write when empty
  std::string stats_json = "{}";    // stage-specific figures as a JSON object
};

// Size and hash of a file on disk; throws nlm::Error if it cannot be read.
FileEntry describe_file(const std::string& path, const std::string& recorded_as = "");

std::string manifest_to_json(const Manifest& m);
// Throws nlm::Error (runtime) on malformed JSON or wrong field types, naming `where`.
Manifest manifest_from_json(const std::string& json, const std::string& where = "manifest.json");
// Atomically writes DIR/manifest.json.
void write_manifest(const std::string& dir, const Manifest& m);
// Reads DIR/manifest.json; nullopt when it is missing or unreadable (a rerun then redoes the work).
std::optional<Manifest> read_manifest(const std::string& dir);
// True when `old` was made by the same stage with the same options from the same inputs (path,
// size and hash), and every output it lists still exists in `dir` with its recorded size.
bool manifest_matches(const Manifest& old, const std::string& dir, const std::string& stage,
                      const std::string& options_json, const std::vector<FileEntry>& inputs);

}  // namespace nlm
