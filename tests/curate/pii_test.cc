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

TEST(CuratePii, NationalIdValidators) {
  EXPECT_TRUE(es_id_valid("12345678Z"));
  EXPECT_TRUE(es_id_valid("12345678-Z"));
  EXPECT_FALSE(es_id_valid("12345678A"));
  EXPECT_TRUE(es_id_valid("X1234567L"));
  EXPECT_TRUE(es_id_valid("Y-1234567-X"));
  EXPECT_FALSE(es_id_valid("X1234567M"));
  EXPECT_TRUE(hkid_valid("A123456(3)"));
  EXPECT_FALSE(hkid_valid("A123456(4)"));
  EXPECT_TRUE(hkid_valid("AB9876543"));
  EXPECT_FALSE(hkid_valid("AB9876540"));
  EXPECT_TRUE(cn_id_valid("11010519491231002X"));
  EXPECT_FALSE(cn_id_valid("110105194912310021"));
  EXPECT_FALSE(cn_id_valid("11010519491331002X"));  // month 13, even with the right check digit
}

// Reported on Basque help text: a digit run inside a decimal or a longer number is not PII.
TEST(CuratePii, NumbersInsideLongerNumbersStay) {
  for (std::string s : {"Balioa 0.389178240740741 da.", "Muga +922337203685477,5807 da.",
                        "Zenbakia 9223372036854775807 eta 1.4111111111111111 dira.",
                        "4111111111111111.5 eta 4111111111111111,25 ez dira txartelak."}) {
    EXPECT_EQ(redact(s), s) << s;
  }
}

TEST(CuratePii, ListedPhonesAreAllRedacted) {
  EXPECT_EQ(redact("Tel: 2345 6789, 9876 5432 / +34 612 345 678; +852 9123 4567"),
            "Tel: <PHONE>, <PHONE> / <PHONE>; <PHONE>");
  EXPECT_EQ(redact("+852 9123 4567 +852 9876 5432 +86 138 1234 5678"), "<PHONE> <PHONE> <PHONE>");
  EXPECT_EQ(redact("请拨打13812345678、13987654321或010-62345678。"), "请拨打<PHONE>、<PHONE>或<PHONE>。");
}

TEST(CuratePii, RegionalPhonesAndIds) {
  std::map<std::string, uint64_t> counts;
  EXPECT_EQ(redact("HK (852) 2345 6789, TW 0912-345-678 y (02) 2345-6789, ES 612 34 56 78 / "
                   "91 123 45 67, CN 0755-81234567; DNI 12345678Z, NIE X-1234567-L, HKID "
                   "A123456(3), 身份证11010519491231002X。",
                   &counts),
            "HK <PHONE>, TW <PHONE> y <PHONE>, ES <PHONE> / <PHONE>, CN <PHONE>; DNI <ES_ID>, NIE "
            "<ES_ID>, HKID <HK_ID>, 身份证<CN_ID>。");
  EXPECT_EQ(counts["PHONE"], 6u);
  EXPECT_EQ(counts["ES_ID"], 2u);
  EXPECT_EQ(counts["HK_ID"], 1u);
  EXPECT_EQ(counts["CN_ID"], 1u);
  // Wrong check characters and spans of years stay.
  for (std::string s : {"DNI 12345678A, HKID A123456(4), 110105194912310021, 2010-2020."})
    EXPECT_EQ(redact(s), s) << s;
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
