// The `eval logprobs` command's work (see logprobs.h).
#include "eval/logprobs.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/compressed_stream.h"
#include "core/error.h"
#include "core/line_reader.h"
#include "core/options.h"
#include "model/hf_checkpoint.h"
#include "tensor/backend.h"
#include "tokenizer/tokenizer.h"

namespace nlm::eval {

using nlohmann::json;

void declare(opt::Schema& s, LogprobsOptions& o) {
  declare(s, o.scoring);
  s.add("device", o.device, "Compute device: cpu, or cuda / cuda:N in builds with CUDA");
}

namespace {

struct Record {
  TokenRequest request;
  size_t shown_context = 0;  // context tokens printed without a logprob (a text without BOS)
};

std::string field(const json& j, const char* key, const std::string& where) {
  const auto& v = j.at(key);
  if (!v.is_string()) usage_error(std::string("\"") + key + "\" must be a string", where);
  return v.get<std::string>();
}

}  // namespace

void run_logprobs(const std::string& model_dir, const std::string& jsonl, const LogprobsOptions& o,
                  std::ostream& out) {
  const std::string tok_path = model_dir + "/tokenizer.json";
  if (!std::filesystem::exists(tok_path))
    usage_error("the model directory has no tokenizer.json", model_dir,
                "copy the tokenizer.json the model was trained with into it");
  if (!std::filesystem::is_regular_file(jsonl)) usage_error("cannot read " + jsonl, jsonl, "give a JSONL file");
  auto tok = tokenizer::Tokenizer::load(tok_path);
  auto model = model::load_hf_model(model_dir, tensor::backend_for(o.device));
  LmScorer scorer(*model, tok, o.scoring);

  std::vector<Record> records;
  {
    auto in = InputStream::open(jsonl);
    LineReader lines(*in);
    std::string_view line;
    while (lines.next(line)) {
      const std::string where = jsonl + ":" + std::to_string(lines.line_number());
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object())
        usage_error("not a JSON object", where, "write one {\"text\": ...} or {\"context\", \"continuation\"} per line");
      Record r;
      if (j.contains("context") || j.contains("continuation")) {
        if (!j.contains("context") || !j.contains("continuation"))
          usage_error("a request needs both \"context\" and \"continuation\"", where);
        r.request = scorer.encode_pair(field(j, "context", where), field(j, "continuation", where));
      } else if (j.contains("text")) {
        const std::string text = field(j, "text", where);
        if (o.scoring.add_bos) {
          r.request = scorer.encode_rolling(text);
        } else {
          auto ids = tok.encode(text, false);
          r.request.tokens.assign(ids.begin(), ids.end());
          r.request.n_context = r.request.tokens.empty() ? 0 : 1;
          r.shown_context = r.request.n_context;
        }
      } else {
        usage_error("the record has neither \"text\" nor \"context\"/\"continuation\"", where);
      }
      records.push_back(std::move(r));
    }
  }
  // Texts of zero tokens have nothing to score; the rest go to the scorer together.
  std::vector<TokenRequest> requests;
  std::vector<size_t> index;
  for (size_t i = 0; i < records.size(); ++i)
    if (records[i].request.n_context > 0) {
      requests.push_back(records[i].request);
      index.push_back(i);
    }
  auto scores = score_tokens(*model, requests, o.scoring);
  std::vector<const std::vector<TokenScore>*> by_record(records.size(), nullptr);
  for (size_t k = 0; k < index.size(); ++k) by_record[index[k]] = &scores[k];

  auto token_json = [&](int32_t id) {
    const uint32_t u = static_cast<uint32_t>(id);
    return std::pair<std::string, std::string>(tok.token_text(u), tok.decode({u}, false));
  };
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    json toks = json::array();
    for (size_t k = 0; k < r.shown_context; ++k) {
      auto [piece, text] = token_json(r.request.tokens[k]);
      toks.push_back({{"id", r.request.tokens[k]}, {"token", piece}, {"text", text}, {"logprob", nullptr}});
    }
    double sum = 0;
    bool greedy = true;
    size_t scored = 0;
    if (by_record[i]) {
      for (const auto& t : *by_record[i]) {
        auto [piece, text] = token_json(t.id);
        json e = {{"id", t.id}, {"token", piece}, {"text", text}, {"logprob", t.logprob}, {"greedy", t.greedy}};
        if (o.scoring.top_k > 0) {
          json top = json::array();
          for (const auto& [id, lp] : t.top) top.push_back({{"id", id}, {"token", token_json(id).first}, {"logprob", lp}});
          e["top"] = top;
        }
        toks.push_back(e);
        sum += t.logprob;
        greedy = greedy && t.greedy;
        ++scored;
      }
    }
    json line = {{"index", i}, {"tokens", toks}, {"logprob", sum}, {"is_greedy", greedy}, {"scored", scored}};
    out << line.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  }
}

}  // namespace nlm::eval
