// Property order for response_format schemas. OpenAI's structured outputs, llama.cpp's grammars
// and vLLM write an object's properties in the order the schema lists them, and clients rely on
// it (a "reasoning" property placed before "answer" is meant to be written first). nlohmann::json
// keeps object keys sorted, so the order is read from the request body parsed a second time with
// its keys in order, and handed to the recogniser as x-property-order.
#pragma once
#include <nlohmann/json.hpp>

namespace nlm::serve {

// `schema` (parsed with its keys in source order) as a sorted nlohmann::json in which every
// object schema with "properties" and without its own "x-property-order" gets one listing its
// properties in source order. Only schema positions are visited (properties, items, prefixItems,
// additionalProperties, anyOf/oneOf/allOf, not, $defs/definitions), never enum/const values.
nlohmann::json with_source_property_order(const nlohmann::ordered_json& schema);

}  // namespace nlm::serve
