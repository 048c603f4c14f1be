// The `pii` step: finds personal data and replaces it with typed tags (<EMAIL>, <PHONE>, <IP>,
// <CREDIT_CARD>, <IBAN>, <CREDENTIALS>, <ES_ID>, <HK_ID>, <CN_ID>, or <NAME> for a user pattern),
// counting each type. All patterns run at once through an RE2::Set, so a document without PII
// costs one scan; each candidate is then checked (Luhn for cards, ISO 7064 mod-97 for IBANs,
// check characters for national IDs, inet_pton and octet ranges for IPs, digit counts and
// boundaries for phones) so ordinary numbers, decimals, dates and version strings stay as they are.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/options.h"
#include "curate/step.h"

namespace nlm::curate {

struct PiiOptions {
  // Built-in types to redact: EMAIL, PHONE, IP (v4 and v6), CREDIT_CARD, IBAN, CREDENTIALS
  // (user:password in URLs), ES_ID (Spanish DNI and NIE), HK_ID (Hong Kong identity card number),
  // CN_ID (Chinese resident identity number).
  std::vector<std::string> types = {"EMAIL", "PHONE",       "IP",    "CREDIT_CARD", "IBAN",
                                    "CREDENTIALS", "ES_ID", "HK_ID", "CN_ID"};
  // Extra patterns as "NAME=RE2 regex"; a match becomes <NAME>. With a capture group, only the
  // group is replaced.
  std::vector<std::string> custom;
};

// Its keys (config files, pipeline stages), defaults and bounds; docs/curate.md's table comes from it.
void declare(opt::Schema& schema, PiiOptions& options);

class PiiRedactor {
 public:
  // Throws a usage nlm::Error for an unknown type or a custom pattern that does not compile.
  explicit PiiRedactor(const PiiOptions& options);
  ~PiiRedactor();
  // Replaces PII in `text` with tags; adds per-type counts to `counts`; returns the total.
  size_t redact(std::string& text, std::map<std::string, uint64_t>* counts = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class PiiStep : public Step {
 public:
  explicit PiiStep(const PiiOptions& options) : redactor_(options) {}
  std::string_view name() const override { return "pii"; }
  std::optional<Rejection> apply(corpus::Document& doc, DocContext& ctx) override;

 private:
  PiiRedactor redactor_;
  std::map<std::string, uint64_t> counts_;
};

// Validators, exposed for tests.
bool luhn_valid(std::string_view digits);
bool iban_valid(std::string_view iban);  // spaces allowed
// National IDs (pii_ids.cc); separators ' ', '-', '(' and ')' are allowed.
bool es_id_valid(std::string_view id);  // DNI 12345678Z or NIE X1234567L: letter = n mod 23
bool hkid_valid(std::string_view id);   // A123456(3): weighted sum mod 11, 10 is 'A'
bool cn_id_valid(std::string_view id);  // 18 characters: ISO 7064 MOD 11-2, a plausible birth date

}  // namespace nlm::curate
