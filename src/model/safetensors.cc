// safetensors reading and writing (see safetensors.h).
#include "model/safetensors.h"

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/json_depth.h"

namespace nlm::model {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {
// The reference implementation's cap (safetensors' MAX_HEADER_SIZE): the JSON header is parsed
// into memory, so its declared length must not decide how much that takes.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
}  // namespace

SafetensorsReader::SafetensorsReader(const std::string& path) : path_(path), map_(path) {
  auto bad = [&](const std::string& what) {
    runtime_error("corrupt safetensors file: " + what, path_,
                  "re-download or re-save the checkpoint");
  };
  if (map_.size() < 8) bad("shorter than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | map_.data()[i];
  if (n > map_.size() - 8) bad("header length " + std::to_string(n) + " beyond end of file");
  if (n > kMaxHeaderBytes)
    bad("header length " + std::to_string(n) + " over the " + std::to_string(kMaxHeaderBytes) + "-byte limit");
  const std::string_view header = map_.view().substr(8, n);
  if (json_depth(header) > kMaxJsonDepth)
    bad("header nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  json h;
  try {
    h = json::parse(header);
  } catch (const std::exception& e) {
    bad(std::string("header is not valid JSON: ") + e.what());
  }
  if (!h.is_object()) bad("header is not a JSON object");
  data_ = map_.data() + 8 + n;
  const uint64_t data_size = map_.size() - 8 - n;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (it->is_object())
        for (auto m = it->begin(); m != it->end(); ++m)
          if (m->is_string()) metadata_[m.key()] = m->get<std::string>();
      continue;
    }
    const json& v = *it;
    SafetensorsEntry e;
    e.name = it.key();
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      bad("entry '" + e.name + "' lacks dtype, shape or data_offsets");
    if (!v["dtype"].is_string() || !tensor::parse_dtype(v["dtype"].get<std::string>(), e.dtype))
      bad("entry '" + e.name + "' has an unsupported dtype " + v["dtype"].dump());
    if (!v["shape"].is_array()) bad("entry '" + e.name + "' shape is not an array");
    // Each dimension and the byte count must fit: a shape whose product wraps around could
    // otherwise match a small data span.
    uint64_t want = tensor::dtype_size(e.dtype);
    for (const json& d : v["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) ||
          __builtin_mul_overflow(want, d.get<uint64_t>(), &want) || want > static_cast<uint64_t>(INT64_MAX))
        bad("entry '" + e.name + "' has a bad shape (dimensions must be whole numbers, the byte count under 2^63)");
      e.shape.push_back(d.get<int64_t>());
    }
    const json& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      bad("entry '" + e.name + "' has bad data_offsets");
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    if (e.begin > e.end || e.end > data_size)
      bad("entry '" + e.name + "' data_offsets [" + std::to_string(e.begin) + ", " +
          std::to_string(e.end) + "] outside the " + std::to_string(data_size) + "-byte data");
    if (e.end - e.begin != want)
      bad("entry '" + e.name + "' holds " + std::to_string(e.end - e.begin) + " bytes, its shape needs " +
          std::to_string(want));
    entries_.push_back(std::move(e));
  }
  // Entries must not overlap (the spec also forbids holes, but tolerating them is harmless).
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (auto& e : entries_) spans.push_back({e.begin, e.end});
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second) bad("tensor data regions overlap");
}

const SafetensorsEntry* SafetensorsReader::find(const std::string& name) const {
  for (auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::string safetensors_header(const std::vector<SafetensorsTensor>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  ordered_json h = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json m = ordered_json::object();
    for (auto& [k, v] : metadata) m[k] = v;
    h["__metadata__"] = m;
  }
  uint64_t offset = 0;
  for (auto& t : tensors) {
    uint64_t bytes = static_cast<uint64_t>(tensor::shape_numel(t.shape)) * tensor::dtype_size(t.dtype);
    h[t.name] = {{"dtype", std::string(tensor::dtype_name(t.dtype))},
                 {"shape", t.shape},
                 {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = h.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned
  std::string out(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + text;
}

void write_safetensors(const std::string& path, const std::vector<SafetensorsTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  AtomicFile f(path);
  f.write(safetensors_header(tensors, metadata));
  for (auto& t : tensors) {
    size_t bytes = static_cast<size_t>(tensor::shape_numel(t.shape)) * tensor::dtype_size(t.dtype);
    f.write(std::string_view(static_cast<const char*>(t.bytes), bytes));
  }
  f.commit();
}

}  // namespace nlm::model
