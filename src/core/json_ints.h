// Integers read from JSON that a file or a user wrote (checkpoints, data cursors, metrics):
// nlohmann's get<uint64_t>() converts a float such as 2.4e27 with undefined behaviour and a
// negative number by wrapping, so every such field goes through these, which accept only JSON
// integers in range and otherwise throw nlm::Error naming the field.
#pragma once
#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace nlm {

template <class J>
uint64_t json_uint(const J& v, const std::string& field, const std::string& where) {
  if (v.is_number_unsigned()) return v.template get<uint64_t>();
  if (v.is_number_integer() && v.template get<int64_t>() >= 0) return static_cast<uint64_t>(v.template get<int64_t>());
  runtime_error("'" + field + "' is not a non-negative integer", where);
}

template <class J>
int64_t json_int(const J& v, const std::string& field, const std::string& where) {
  if (v.is_number_unsigned() && v.template get<uint64_t>() <= uint64_t(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(v.template get<uint64_t>());
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.template get<int64_t>();
  runtime_error("'" + field + "' is not an integer", where);
}

// obj[key] through json_uint/json_int, or `fallback` when obj is not an object or has no such key
// (or holds null there): the checked form of json::value(key, 0).
template <class J>
uint64_t json_uint_at(const J& obj, const std::string& key, uint64_t fallback, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return fallback;
  return json_uint(obj[key], key, where);
}

template <class J>
int64_t json_int_at(const J& obj, const std::string& key, int64_t fallback, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return fallback;
  return json_int(obj[key], key, where);
}

}  // namespace nlm
