// base64url (RFC 4648 §5) without padding, as JOSE uses it (RFC 7515 §2).
//
// Decoding is strict, so that one byte string has exactly one accepted text (a JWS cannot be
// re-encoded into a second text that verifies): only the URL-safe alphabet, no '=' padding,
// no whitespace, no length of the form 4n+1, and the unused low bits of the last character
// must be zero. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace acp::auth {

std::string base64UrlEncode(std::string_view bytes);

// The decoded bytes; nullopt when `text` is not canonical unpadded base64url.
std::optional<std::string> base64UrlDecode(std::string_view text);

}  // namespace acp::auth
