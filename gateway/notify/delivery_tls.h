// The TLS client context of Subscription deliveries (notifier.h): one Poco::Net::Context,
// made once at start-up from gateway.notify.* (docs/configuration.md) with the gateway's
// client policy (tls/client_policy.h: TLS 1.2+, the peer's chain verified against the
// configured CAs or the system's, the URL's host checked against the certificate's
// subjectAltName, an optional client certificate for endpoints that ask for one).
// Every https:// delivery connects with it (HTTPSClientSession(host, port, context)); Poco's
// SSLManager — its default client context and its invalid-certificate handlers — is never
// used, so nothing can accept a certificate the policy refuses. Poco's own post-handshake
// host check (VERIFY_STRICT, extended verification on, loopback hosts included) runs as well.
// Thread-safety: make once; the context is then used by the delivery thread (and any other).
// Error contract: as tls::applyClientPolicy() (Status::invalid naming the field and file).
#pragma once

#include <Poco/Net/Context.h>

#include "gateway/core/status.h"
#include "gateway/tls/client_policy.h"

namespace acp::notify {

Result<Poco::Net::Context::Ptr> makeDeliveryContext(const tls::ClientTlsOptions& options);

}  // namespace acp::notify
