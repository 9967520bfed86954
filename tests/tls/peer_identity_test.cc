// The certificate → organisation rule (tls/peer_identity.h): one OU holding an ODS code.
#include "gateway/tls/peer_identity.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/tls/tls_client.h"

namespace acp::tls {
namespace {

using Subject = std::vector<std::pair<std::string, std::string>>;
using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;

// A certificate holding only a subject (identityOf() reads nothing else).
Certificate withSubject(const Subject& subject) {
  Certificate x(X509_new(), X509_free);
  X509_NAME* name = X509_get_subject_name(x.get());
  for (const auto& [field, value] : subject)
    X509_NAME_add_entry_by_txt(name, field.c_str(), MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
  return x;
}

Certificate fromFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  X509* x = f ? PEM_read_X509(f, nullptr, nullptr, nullptr) : nullptr;
  if (f) std::fclose(f);
  return Certificate(x, X509_free);
}

TEST(PeerIdentity, TheOrganisationIsTheOdsCodeInTheOrganizationalUnit) {
  auto x = withSubject({{"C", "GB"},
                        {"O", "Castle Street Surgery"},
                        {"OU", "X81001"},
                        {"CN", "GP clinical system"}});
  PeerIdentity id = identityOf(x.get());
  EXPECT_EQ(id.organisation, "X81001");
  EXPECT_EQ(id.subject, "CN=GP clinical system,OU=X81001,O=Castle Street Surgery,C=GB");
  EXPECT_TRUE(id.hasCertificate());
}

TEST(PeerIdentity, NoCertificateIsNoIdentity) {
  PeerIdentity id = identityOf(nullptr);
  EXPECT_EQ(id.organisation, "");
  EXPECT_EQ(id.subject, "");
  EXPECT_FALSE(id.hasCertificate());
}

TEST(PeerIdentity, ASubjectWithoutExactlyOneOdsCodeNamesNoOrganisation) {
  for (const Subject& subject : std::vector<Subject>{
           {{"O", "Castle Street Surgery"}, {"CN", "X81001"}},             // no OU (CN is not read)
           {{"OU", "X81001"}, {"OU", "X81002"}, {"CN", "two practices"}},  // ambiguous
           {{"OU", "x81001"}},                                             // lower case
           {{"OU", "X8"}},                                                 // too short
           {{"OU", "X81001X81001"}},                                       // too long
           {{"OU", "X81 001"}},
           {{"OU", "X81001,OU=RX8"}},
           {{"OU", "Castle Street Surgery"}},
       }) {
    auto x = withSubject(subject);
    PeerIdentity id = identityOf(x.get());
    EXPECT_EQ(id.organisation, "") << id.subject;
    EXPECT_TRUE(id.hasCertificate());
  }
}

TEST(PeerIdentity, TheSubjectIsEscapedForLogs) {
  auto x = withSubject({{"O", "Smith, Jones & Partners"}, {"OU", "X81001"}, {"CN", "a\nb"}});
  PeerIdentity id = identityOf(x.get());
  EXPECT_EQ(id.organisation, "X81001");
  EXPECT_NE(id.subject.find("O=Smith\\, Jones & Partners"), std::string::npos) << id.subject;
  EXPECT_EQ(id.subject.find('\n'), std::string::npos) << id.subject;
}

TEST(PeerIdentity, OdsCodes) {
  for (const char* code : {"8WB01", "RX8", "RX9", "X81001", "X82001", "QNS"})
    EXPECT_TRUE(isOdsCode(code)) << code;
  for (const char* text : {"", "RX", "rx8", "X81-001", "ABCDEFGHIJK", "X81001 "})
    EXPECT_FALSE(isOdsCode(text)) << text;
}

TEST(PeerIdentity, EachDevelopmentClientCertificateNamesItsOrganisation) {
  // certs/make-dev-certs.sh: one certificate per organisation of organisations.md.
  for (const char* ods : {"8WB01", "RX9", "RX8", "X81001", "X81002", "X82001"}) {
    auto x = fromFile(testing::certFile(std::string("clients/") + ods + ".crt"));
    ASSERT_TRUE(x) << ods;
    EXPECT_EQ(identityOf(x.get()).organisation, ods);
  }
  auto officer = fromFile(testing::certFile("clients/privacy-officer.crt"));
  ASSERT_TRUE(officer);
  EXPECT_NE(identityOf(officer.get()).subject.find("CN=privacy officer console"),
            std::string::npos);
}

}  // namespace
}  // namespace acp::tls
