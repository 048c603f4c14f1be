// PII redaction: each type is found and tagged and counted; ordinary numbers, dates, versions,
// times and code are not touched; checksums decide for cards and IBANs.
#include <gtest/gtest.h>

#include "core/error.h"

#include "curate/pii.h"

namespace {
using namespace nlm::curate;

std::string redact(const std::string& s, std::map<std::string, uint64_t>* counts = nullptr,
                   PiiOptions o = {}) {
  PiiRedactor r(o);
  std::string t = s;
  r.redact(t, counts);
  return t;
}

TEST(CuratePii, Validators) {
  EXPECT_TRUE(luhn_valid("4111111111111111"));
  EXPECT_FALSE(luhn_valid("4111111111111112"));
  EXPECT_TRUE(iban_valid("DE89 3704 0044 0532 0130 00"));
  EXPECT_TRUE(iban_valid("GB82WEST12345698765432"));
  EXPECT_FALSE(iban_valid("DE89 3704 0044 0532 0130 01"));
}

TEST(CuratePii, RedactsEachType) {
  std::map<std::string, uint64_t> counts;
  std::string text =
      "Mail jane.doe+news@example.co.uk or call +44 20 7946 0958, (555) 234-5678, 555-867-5309, "
      "020 7946 0958 or 01 23 45 67 89; in China 13812345678. Server 192.168.1.20 and "
      "2001:db8:85a3::8a2e:370:7334. Card 4111 1111 1111 1111. IBAN DE89 3704 0044 0532 0130 00 "
      "please. Login at https://admin:s3cret@db.example.com/x now.";
  std::string out = redact(text, &counts);
  EXPECT_EQ(out,
            "Mail <EMAIL> or call <PHONE>, <PHONE>, <PHONE>, <PHONE> or <PHONE>; in China <PHONE>. "
            "Server <IP> and <IP>. Card <CREDIT_CARD>. IBAN <IBAN> please. Login at "
            "https://<CREDENTIALS>@db.example.com/x now.");
  EXPECT_EQ(counts["EMAIL"], 1u);
  EXPECT_EQ(counts["PHONE"], 6u);
  EXPECT_EQ(counts["IP"], 2u);
  EXPECT_EQ(counts["CREDIT_CARD"], 1u);
  EXPECT_EQ(counts["IBAN"], 1u);
  EXPECT_EQ(counts["CREDENTIALS"], 1u);
}

TEST(CuratePii, LeavesOrdinaryNumbersAlone) {
  for (std::string s : {
           "The population grew from 1,234,567 to 2,345,678 between 1990 and 2020.",
           "Released on 2023-01-15, version 1.2.3.4 fixes bug 12345; see v10.0.0.1 too.",
           "Meet at 12:30:45 on 15/03/2024 or 03.15.2024; pi is 3.14159265358979.",
           "Order 4111111111111112 failed the check; ISBN 978-3-16-148410-0.",
           "In C++ write std::vector<int> and a::b::c; the ratio was 0.5:0.25.",
           "Account DE89 3704 0044 0532 0130 01 is not valid.",
           "Score 100-200-3000 and 2024 12345 6789 are not phones.",
           "Call the function f(x) = 2x + 1 at x = 255.255.255."}) {
    EXPECT_EQ(redact(s), s) << s;
  }
}

TEST(CuratePii, CustomPatternsAndTypes) {
  PiiOptions o;
  o.types = {"EMAIL"};
  o.custom = {"STAFF_ID=S-\\d{6}", "TOKEN=token=(\\w+)"};
  std::map<std::string, uint64_t> counts;
  EXPECT_EQ(redact("S-123456 sent token=abc123 to a@b.org, call 555-867-5309", &counts, o),
            "<STAFF_ID> sent token=<TOKEN> to <EMAIL>, call 555-867-5309");
  EXPECT_EQ(counts["STAFF_ID"], 1u);
  o.custom = {"BAD=("};
  EXPECT_THROW(PiiRedactor{o}, nlm::Error);
  o.custom = {};
  o.types = {"SSN"};
  EXPECT_THROW(PiiRedactor{o}, nlm::Error);
}

}  // namespace
