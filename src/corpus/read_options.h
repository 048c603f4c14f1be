// How documents are read: the input format, the plain-text splitting mode, the JSON field names,
// and what to do with malformed records. One struct, used by the CLI flags, the pipeline file and
// every stage that reads documents.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace nlm::opt {
class Schema;
}

namespace nlm::corpus {

enum class InputFormat {
  Auto,   // by file name: *.jsonl, *.json, *.ndjson (optionally compressed) are JSONL, else text
  Jsonl,  // one JSON object per line
  Text,   // plain UTF-8 text, split by TextMode
};

enum class TextMode {
  Line,       // each non-empty line is a document
  Paragraph,  // blocks separated by blank lines are documents
  File,       // each file is one document
};

struct ReadOptions {
  // Input format; Auto decides per file from its name.
  InputFormat format = InputFormat::Auto;
  // How plain text is split into documents.
  TextMode text_mode = TextMode::Paragraph;
  // JSON member holding the document text (must be a string).
  std::string text_field = "text";
  // JSON member holding the document id (string or number); may be absent.
  std::string id_field = "id";
  // Make the first malformed record fatal instead of a counted skip.
  bool strict = false;
  // How many malformed records are reported individually (with file:line) before going silent.
  int max_reported = 5;
};

// The options' keys and flags: format, text_mode, text_field, id_field, strict.
void declare(opt::Schema& schema, ReadOptions& options);

InputFormat parse_input_format(const std::string& s);  // "auto" | "jsonl" | "text"
TextMode parse_text_mode(const std::string& s);        // "line" | "paragraph" | "file"
const char* input_format_name(InputFormat f);
const char* text_mode_name(TextMode m);

// Counts of what was read and what was skipped, per reader; merge() to total them.
struct ReadStats {
  uint64_t files = 0;
  uint64_t docs = 0;            // documents returned
  uint64_t text_bytes = 0;      // UTF-8 bytes of returned texts
  uint64_t raw_bytes = 0;       // bytes read from disk (compressed size)
  uint64_t bad_json = 0;        // lines that are not a JSON object
  uint64_t missing_text = 0;    // objects without the text field
  uint64_t wrong_type = 0;      // text field present but not a string
  uint64_t invalid_utf8_docs = 0;   // documents that needed UTF-8 repair (kept, repaired)
  uint64_t utf8_replacements = 0;   // U+FFFD inserted by repair
  uint64_t truncated_files = 0;     // compressed streams that ended early or were corrupt
  uint64_t skipped() const { return bad_json + missing_text + wrong_type; }
  void merge(const ReadStats& o);
};

// Shared across the readers of one run so only the first few problems are reported, and so
// --strict can stop the run at the first one.
class Diagnostics {
 public:
  explicit Diagnostics(int max_reported = 5, bool strict = false)
      : max_reported_(max_reported), strict_(strict) {}
  // Reports (if under the limit) and, under --strict, throws a runtime nlm::Error.
  void malformed(const std::string& where, const std::string& what);
  int reported() const { return reported_.load(); }
  bool strict() const { return strict_; }

 private:
  int max_reported_;
  bool strict_;
  std::atomic<int> reported_{0};
  std::atomic<uint64_t> total_{0};
};

}  // namespace nlm::corpus
