#include "gateway/tls/certificate_info.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>

namespace acp::tls {

Result<CertificateInfo> readCertificateInfo(const std::string& pemFile) {
  BIO* bio = BIO_new_file(pemFile.c_str(), "r");
  if (!bio) return Status::invalid("cannot read " + pemFile);
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!cert) return Status::invalid(pemFile + " holds no PEM certificate");
  CertificateInfo info;
  BIO* out = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(out, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(out, &data);
  info.subject.assign(data, static_cast<size_t>(n));
  BIO_free(out);
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) {
    info.notAfterSeconds = static_cast<int64_t>(timegm(&tm));
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    info.notAfter = buf;
  }
  X509_free(cert);
  return info;
}

}  // namespace acp::tls
