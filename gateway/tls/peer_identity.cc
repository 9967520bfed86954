#include "gateway/tls/peer_identity.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

namespace acp::tls {

bool isOdsCode(std::string_view text) {
  if (text.size() < 3 || text.size() > 10) return false;
  for (char c : text)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

namespace {

std::string subjectText(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return "";
  // RFC 2253, most specific first, UTF-8 kept as it is (control characters are escaped).
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio, &mem);
  std::string out = mem && mem->data ? std::string(mem->data, mem->length) : std::string();
  BIO_free(bio);
  return out;
}

}  // namespace

PeerIdentity identityOf(X509* certificate) {
  PeerIdentity id;
  if (!certificate) return id;
  X509_NAME* name = X509_get_subject_name(certificate);
  if (!name) return id;
  id.subject = subjectText(name);
  int at = X509_NAME_get_index_by_NID(name, NID_organizationalUnitName, -1);
  if (at < 0) return id;
  if (X509_NAME_get_index_by_NID(name, NID_organizationalUnitName, at) >= 0) return id;  // several
  ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, value);
  if (n > 0) {
    std::string ou(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
    if (isOdsCode(ou)) id.organisation = ou;
  }
  OPENSSL_free(utf8);
  return id;
}

}  // namespace acp::tls
