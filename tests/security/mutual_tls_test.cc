// Tokens over mutual TLS: on a connection whose client certificate names an organisation
// (OU = ODS code), only a token issued to that organisation's client is accepted — a stolen
// token is no use from another organisation's system; likewise an HL7 v2 message over MLLP
// must come from its sending facility's certificate. HTTPS and MLLP over TLS with the
// development certificates (tests/tls/tls_client.h), the gateway in smart mode.
#include <string>

#include "tests/security/security_fixture.h"
#include "tests/tls/tls_client.h"

namespace acp::testing::security {
namespace {

struct Answer {
  int status = 0;
  std::string head;  // status line and headers, as received
  std::string body;
  json::Value json;
  std::string header(const std::string& lowerName) const {
    std::string lower = head;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t at = lower.find("\r\n" + lowerName + ":");
    if (at == std::string::npos) return "";
    size_t start = head.find_first_not_of(' ', at + lowerName.size() + 3);
    return head.substr(start, head.find("\r\n", start) - start);
  }
};

// One request on a fresh HTTPS connection presenting `certificate`'s client certificate
// ("" = none), with Connection: close; the whole answer.
Answer https(int port, const std::string& certificate, const std::string& method,
             const std::string& target, const std::string& body = "",
             const Headers& headers = {}) {
  TlsClient client(port, certificate.empty() ? ClientOptions{} : asClient(certificate));
  Answer a;
  if (!client.handshake()) {
    ADD_FAILURE() << "handshake: " << client.error();
    return a;
  }
  std::string rq = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) rq += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (!headers.count("Content-Type")) rq += "Content-Type: application/fhir+json\r\n";
    rq += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  rq += "\r\n" + body;
  if (!client.send(rq)) {
    ADD_FAILURE() << "send: " << client.error();
    return a;
  }
  std::string got = client.receive();
  a.status = statusOf(got);
  size_t split = got.find("\r\n\r\n");
  a.head = got.substr(0, split);
  a.body = split == std::string::npos ? "" : got.substr(split + 4);
  json::ParseError err;
  json::parse(a.body, a.json, err);
  return a;
}

class MutualTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    app::Options o;
    o.tlsCertificate = certFile("server.crt");
    o.tlsPrivateKey = certFile("server.key");
    o.tlsCaCertificates = certFile("ca.crt");
    o.tlsClientCertificates = "optional";  // so that a connection without one can be tried
    gateway_ = new SecureGateway(o);
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }
  int port() { return gateway_->server().port(); }

  // An access token for `client`, asked for at POST /token over the certificate's connection.
  std::string token(const std::string& client, const std::string& certificate) {
    Form f = {{"grant_type", "client_credentials"},
              {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
              {"client_assertion", gateway_->assertion(client)},
              {"scope", specOf(client).scopes}};
    Answer a = https(port(), certificate, "POST", "/token", formEncode(f),
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(a.status, 200) << a.body;
    return a.json.getString("access_token");
  }
  Answer as(const std::string& certificate, const std::string& token, const std::string& method,
            const std::string& target, const std::string& body = "", Headers headers = {}) {
    headers["Authorization"] = "Bearer " + token;
    return https(port(), certificate, method, target, body, headers);
  }
  void expectBoundRefusal(const Answer& a) {
    EXPECT_EQ(a.status, 401) << a.body;
    std::string challenge = a.header("www-authenticate");
    EXPECT_EQ(challenge.rfind("Bearer realm=\"acp-gateway\"", 0), 0u) << a.head;
    EXPECT_NE(challenge.find("error=\"invalid_token\""), std::string::npos) << a.head;
    EXPECT_NE(challenge.find("another organisation than the client certificate"),
              std::string::npos)
        << a.head;
    EXPECT_EQ(a.body.find(kChildNhs), std::string::npos);
  }

  static inline SecureGateway* gateway_ = nullptr;
};

TEST_F(MutualTls, ATokenIsAcceptedOnlyWithItsOrganisationsCertificate) {
  // The hospice pushes over its own connection.
  std::string hospice = token("hospice", "8WB01");
  Answer pushed = as("8WB01", hospice, "POST", "/$ingest/hospice", hospiceSample(),
                     {{"Content-Type", "application/json"}});
  ASSERT_EQ(pushed.status, 200) << pushed.body;
  HttpResult parsed;
  parsed.json = pushed.json;
  const std::string child = pushedId(parsed, "Patient");
  ASSERT_FALSE(child.empty());

  // X81001's system with X81001's token reads the child.
  std::string gp1 = token("gp1", "X81001");
  Answer ok = as("X81001", gp1, "GET", "/Patient/" + child);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.body.find(kChildNhs), std::string::npos);

  // X81002's token on X81001's connection, X81001's token on X81002's: refused.
  std::string gp2 = token("gp2", "X81002");
  expectBoundRefusal(as("X81001", gp2, "GET", "/Patient/" + child));
  expectBoundRefusal(as("X81001", gp2, "GET", "/CarePlan"));
  expectBoundRefusal(as("X81002", gp1, "GET", "/Patient/" + child));
  // The hospice's token used from the GP's system cannot push.
  expectBoundRefusal(as("X81001", hospice, "POST", "/$ingest/hospice", hospiceSample(),
                        {{"Content-Type", "application/json"}}));
  // The hospital's certificate with the hospice's token: refused too.
  expectBoundRefusal(as("RX8", hospice, "GET", "/Patient/" + child));

  // A certificate alone is not a token.
  Answer none = https(port(), "X81001", "GET", "/Patient/" + child);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("www-authenticate"), "Bearer realm=\"acp-gateway\"");
  // /metadata needs neither.
  EXPECT_EQ(https(port(), "X81002", "GET", "/metadata").status, 200);
}

// The token endpoint refuses a client of another organisation than the connection's
// certificate at once (RFC 6749 invalid_client), rather than issuing a token no request on
// that connection could use; the refusal is audited as a refused login.
TEST_F(MutualTls, NoTokenIsIssuedForAnotherOrganisationThanTheCertificates) {
  auto ask = [&](const std::string& client, const std::string& certificate) {
    Form f = {{"grant_type", "client_credentials"},
              {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
              {"client_assertion", gateway_->assertion(client)},
              {"scope", specOf(client).scopes}};
    return https(port(), certificate, "POST", "/token", formEncode(f),
                 {{"Content-Type", "application/x-www-form-urlencoded"}});
  };
  for (const auto& [client, certificate] :
       std::vector<std::pair<std::string, std::string>>{
           {"gp2", "X81001"}, {"gp1", "X81002"}, {"hospice", "RX8"}, {"privacy", "8WB01"}}) {
    SCOPED_TRACE(client + " over " + certificate);
    Answer refused = ask(client, certificate);
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(refused.json.getString("error"), "invalid_client") << refused.body;
    EXPECT_NE(refused.json.getString("error_description").find("certificate"), std::string::npos)
        << refused.body;
    EXPECT_EQ(refused.json.find("access_token"), nullptr) << refused.body;
    EXPECT_EQ(refused.header("cache-control"), "no-store");
  }
  // Its own organisation's connection, and one without a certificate, get their tokens.
  EXPECT_EQ(ask("gp2", "X81002").status, 200);
  EXPECT_EQ(ask("gp2", "").status, 200);

  // The privacy officer finds the refusals among the refused logins.
  Answer logins = as("", token("privacy", ""), "GET", "/AuditEvent?subtype=login&_count=200");
  ASSERT_EQ(logins.status, 200) << logins.body;
  HttpResult parsed;
  parsed.json = logins.json;
  size_t refusals = 0;
  for (const json::Value& e : resourcesOf(parsed)) {
    std::string text = json::write(e);
    if (text.find("invalid_client") != std::string::npos &&
        text.find("claimed client: gp2") != std::string::npos)
      ++refusals;
  }
  EXPECT_GE(refusals, 1u) << logins.body;
}

TEST_F(MutualTls, WithoutAClientCertificateTheTokenAloneDecides) {
  // gateway.tls.clientCertificates=optional: no certificate, nothing to bind to.
  std::string gp1 = token("gp1", "");
  EXPECT_EQ(as("", gp1, "GET", "/CarePlan").status, 200);
  std::string gp2 = token("gp2", "");
  Answer r = as("", gp2, "GET", "/CarePlan");
  EXPECT_EQ(r.status, 200) << r.body;
}

// One HL7 v2 message over MLLP over TLS with `certificate`'s client certificate; the ACK.
std::string mllpSend(int port, const std::string& certificate, const std::string& message) {
  TlsClient client(port, asClient(certificate));
  if (!client.handshake()) {
    ADD_FAILURE() << "handshake: " << client.error();
    return "";
  }
  if (!client.send("\x0b" + message + "\x1c\r")) return "";
  return client.receive("\x1c\r");
}

// MSA-1 of an ACK ("AA", "AE", "AR"), "" when there is none.
std::string ackCode(const std::string& ack) {
  size_t msa = ack.find("MSA|");
  return msa == std::string::npos ? "" : ack.substr(msa + 4, 2);
}

TEST_F(MutualTls, TheHospitalsCertificateSendsTheHospitalsMessages) {
  std::string ack = mllpSend(gateway_->server().mllpPort(), "RX8",
                             respectForm(kOtherNhs, "M222222", "MLLP-OK"));
  EXPECT_EQ(ackCode(ack), "AA") << ack;
}

TEST_F(MutualTls, AnMllpMessageMustComeFromItsSendingFacilitysCertificate) {
  std::string ack = mllpSend(gateway_->server().mllpPort(), "X81001",
                             respectForm(kOtherNhs, "M333333", "MLLP-SPOOF", "DNACPR"));
  EXPECT_NE(ackCode(ack), "AA") << ack;
  std::string hospital = token("hospital", "RX8");
  Answer stored = as("RX8", hospital, "GET",
                     "/Patient?identifier=https://acp-gateway.nhs.uk/Id/local/RX8|M333333");
  ASSERT_EQ(stored.status, 200) << stored.body;
  HttpResult found;
  found.json = stored.json;
  EXPECT_TRUE(resourcesOf(found).empty()) << stored.body;
}

}  // namespace
}  // namespace acp::testing::security
