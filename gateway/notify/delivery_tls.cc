#include "gateway/notify/delivery_tls.h"

#include <Poco/Exception.h>

#include "gateway/tls/tls_context.h"

namespace acp::notify {

Result<Poco::Net::Context::Ptr> makeDeliveryContext(const tls::ClientTlsOptions& options) {
  Poco::Net::Context::Ptr context;
  try {
    Poco::Net::Context::Params params;  // no files: the policy below loads them
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.verificationDepth = tls::kVerifyDepth;
    params.loadDefaultCAs = false;
    params.cipherList = tls::kNhsCipherList;
    context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    context->enableExtendedCertificateVerification(true);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  } catch (const Poco::Exception& e) {
    return Status::internal("cannot create the TLS client context: " + e.displayText());
  }
  Status s = tls::applyClientPolicy(context->sslContext(), options);
  if (!s.isOk()) return s;
  return context;
}

}  // namespace acp::notify
