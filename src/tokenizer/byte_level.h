// GPT-2's byte-to-character table: byte-level BPE vocabularies store each byte as one printable
// code point (e.g. space as U+0120 'Ġ'). nativelm works on raw bytes internally and converts at
// the tokenizer.json boundary.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace nlm::tokenizer {

// The code point that stands for byte b in byte-level vocabularies.
uint32_t byte_to_char(uint8_t b);
// Raw bytes -> the byte-level string (UTF-8 of the mapped code points).
std::string bytes_to_byte_level(std::string_view raw);
// Byte-level string -> raw bytes; false when a code point is not one of the 256 mapped ones.
bool byte_level_to_bytes(std::string_view mapped, std::string& raw);

}  // namespace nlm::tokenizer
