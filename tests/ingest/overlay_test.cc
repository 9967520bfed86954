// Overlay rules (gateway/ingest/overlay.h): how a partial record is laid over a stored resource.
#include <gtest/gtest.h>

#include "gateway/ingest/overlay.h"

namespace acp::ingest {
namespace {

json::Value j(const std::string& text) {
  json::Value v;
  json::ParseError err;
  EXPECT_TRUE(json::parse(text, v, err)) << text;
  return v;
}

TEST(Overlay, WhatIsNotSentIsKeptAndNullRemoves) {
  json::Value stored = j(R"({"resourceType":"Patient","id":"p","meta":{"versionId":"3"},
      "gender":"female","telecom":[{"system":"phone","value":"1"}],"birthDate":"2015-03-14"})");
  json::Value incoming = j(R"({"resourceType":"Patient","id":"p","birthDate":"2015-03-15",
      "telecom":null})");
  json::Value out = layOver(incoming, stored, {}, nullptr);
  EXPECT_EQ(json::write(out),
            R"({"resourceType":"Patient","id":"p","birthDate":"2015-03-15","gender":"female"})");
}

TEST(Overlay, NamedObjectsMergeMemberByMember) {
  json::Value stored = j(R"({"period":{"start":"a","end":"b"},"class":{"code":"IMP","display":"x"}})");
  json::Value out = layOver(j(R"({"period":{"start":"c"},"class":{"code":"EMER"}})"), stored,
                            {"period"}, nullptr);
  EXPECT_EQ(json::write(out), R"({"period":{"start":"c","end":"b"},"class":{"code":"EMER"}})");
  // A null member inside removes the stored one; an emptied object goes.
  out = layOver(j(R"({"period":{"end":null}})"), j(R"({"period":{"end":"b"}})"), {"period"}, nullptr);
  EXPECT_EQ(json::write(out), R"({})");
}

TEST(Overlay, AnIdentifierSentAgainKeepsItsStoredExtensions) {
  json::Value stored = j(R"({"identifier":[{"extension":[{"url":"u","valueString":"01"}],
      "system":"nhs","value":"999"},{"system":"mrn","value":"M1"}]})");
  json::Value out =
      layOver(j(R"({"identifier":[{"system":"nhs","value":"999"},{"system":"mrn","value":"M1"}]})"),
              stored, {}, nullptr);
  EXPECT_EQ(json::write(*out.find("identifier")),
            R"([{"system":"nhs","value":"999","extension":[{"url":"u","valueString":"01"}]},{"system":"mrn","value":"M1"}])");
  // Another number does not inherit the status (and replaces the stored one of its system);
  // an explicit null removes it; a system not sent at all is kept, in its stored place.
  out = layOver(j(R"({"identifier":[{"system":"nhs","value":"998"}]})"), stored, {}, nullptr);
  EXPECT_EQ(json::write(*out.find("identifier")),
            R"([{"system":"mrn","value":"M1"},{"system":"nhs","value":"998"}])");
  out = layOver(j(R"({"identifier":[{"system":"nhs","value":"999","extension":null},{"system":"mrn","value":"M1"}]})"),
                stored, {}, nullptr);
  EXPECT_EQ(out.find("identifier")->items()[0].find("extension"), nullptr);
  out = layOver(j(R"({"identifier":[{"system":"mrn","value":"M1"}]})"), stored, {}, nullptr);
  EXPECT_EQ(json::write(*out.find("identifier")),
            R"([{"extension":[{"url":"u","valueString":"01"}],"system":"nhs","value":"999"},{"system":"mrn","value":"M1"}])");
}

TEST(Overlay, DefaultsFillOnlyWhatIsStillAbsent) {
  json::Value defaults = j(R"({"status":"in-progress","class":{"code":"UNK"}})");
  json::Value out = layOver(j(R"({"id":"e"})"), j(R"({"status":"finished"})"), {}, &defaults);
  EXPECT_EQ(json::write(out), R"({"id":"e","status":"finished","class":{"code":"UNK"}})");
}

TEST(Overlay, AnOlderRecordOnlyFillsGaps) {
  std::vector<std::string> filled;
  json::Value out = fillGaps(j(R"({"status":"finished","period":{"end":"b"}})"),
                             j(R"({"status":"in-progress","period":{"start":"a"},
                                   "address":[{"city":"N"}],"telecom":null})"),
                             filled);
  EXPECT_EQ(json::write(out), R"({"status":"finished","period":{"end":"b"},"address":[{"city":"N"}]})");
  EXPECT_EQ(filled, std::vector<std::string>{"address"});
}

}  // namespace
}  // namespace acp::ingest
