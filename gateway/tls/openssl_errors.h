// Small helpers shared by the server side (tls_context) and the client side (client_policy)
// of the gateway's TLS: how an OpenSSL failure and an unreadable PEM file are put in words.
// Thread-safety: both may be called from any thread (OpenSSL's error queue is per thread).
#pragma once

#include <string>

#include "gateway/core/status.h"

namespace acp::tls {

// OpenSSL's last queued error as text ("no certificate or crl found"), and the queue emptied.
std::string opensslError();

// Ok when `path` can be opened for reading; else Status::invalid "<field>: cannot read <path>
// (<system reason>)" — reported before OpenSSL's less helpful reason — or "<field>: no file is
// configured" for an empty path.
Status readableFile(const char* field, const std::string& path);

}  // namespace acp::tls
