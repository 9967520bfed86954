// PeerIdentity — who a client certificate says the connecting system is, and the rule that
// turns a certificate into an organisation (docs/security.md, "Transport").
//
// The rule: the certificate's subject names the organisation by its ODS code in the
// organizationalUnitName (OU) attribute — exactly one OU, 3 to 10 upper-case letters and
// digits (8WB01, RX8, X81001) — with the organisation's name in O and the sending system in
// CN, e.g. "CN=GP clinical system,OU=X81001,O=Castle Street Surgery,C=GB". A subject with no
// OU, several, or one that is not an ODS code names no organisation: the connection still
// stands (the certificate did verify) but carries organisation "", and what that may do is
// for authorisation to decide. Nothing here verifies: identityOf() is applied only to a
// certificate the handshake verified against the configured CAs (tls_context.h).
// Plain values and pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

typedef struct x509_st X509;  // OpenSSL's

namespace acp::tls {

struct PeerIdentity {
  // The ODS code from the verified client certificate; "" without one, or when it names none.
  std::string organisation;
  // The certificate's subject in RFC 2253 form, most specific first ("CN=...,OU=...,O=...,C=GB");
  // "" when the client presented no certificate.
  std::string subject;
  bool hasCertificate() const { return !subject.empty(); }
};

// The identity a certificate carries (nullptr: no certificate).
PeerIdentity identityOf(X509* certificate);
// 3 to 10 characters, each A-Z or 0-9.
bool isOdsCode(std::string_view text);

}  // namespace acp::tls
