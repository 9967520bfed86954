// OAuthError — an error answer of the token endpoint (RFC 6749 §5.2): the HTTP status, the
// error code (invalid_request, invalid_client, invalid_grant, unauthorized_client,
// unsupported_grant_type, invalid_scope; server_error when the gateway itself failed) and an
// error_description. Descriptions are fixed ASCII texts chosen here, never built from the
// request, so they cannot carry what a client sent back into a response or a log (and stay in
// the character set RFC 6749 allows). Plain value.
#pragma once

#include <string>

namespace acp::auth {

struct OAuthError {
  int status = 400;
  std::string error;
  std::string description;
};

}  // namespace acp::auth
