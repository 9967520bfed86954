// Header: the MSH fields every stage needs (routing, duplicate detection, the ACK), decoded to
// UTF-8 once at parse time; and checkHeader(), the "do we accept this kind of message" test
// that gives HL7 errors 200-203.
//
// The parser fills a Header whenever it can find the MSH line, even when the message then
// fails to parse (ParseResult::header), so an AR can still echo MSH-10 and address the
// sender. Values are decoded to UTF-8 and sanitised (for a message that failed, invalid UTF-8
// may remain; it and any control character, a decoded line break included, become '?'), and
// capped at 199 bytes.
// Thread-safety: plain values; checkHeader() is stateless.
#pragma once

#include <string>
#include <vector>

#include "gateway/hl7v2/delimiters.h"
#include "gateway/hl7v2/error.h"

namespace acp::hl7v2 {

// HL7 data type HD (MSH-3..6).
struct HierarchicDesignator {
  std::string namespaceId;      // component 1, e.g. "PAS"
  std::string universalId;      // component 2
  std::string universalIdType;  // component 3
  bool empty() const {
    return namespaceId.empty() && universalId.empty() && universalIdType.empty();
  }
};

struct Header {
  Delimiters delimiters;  // as declared (the defaults when MSH-1/MSH-2 could not be read)
  HierarchicDesignator sendingApplication;    // MSH-3
  HierarchicDesignator sendingFacility;       // MSH-4
  HierarchicDesignator receivingApplication;  // MSH-5
  HierarchicDesignator receivingFacility;     // MSH-6
  std::string messageTime;                    // MSH-7.1 as sent, e.g. "20261028093000"
  std::string messageType;                    // MSH-9.1, e.g. "ADT"
  std::string triggerEvent;                   // MSH-9.2, e.g. "A01"
  std::string messageStructure;               // MSH-9.3, e.g. "ADT_A01"
  std::string controlId;                      // MSH-10
  std::string processingId;                   // MSH-11.1: P, D or T
  std::string processingMode;                 // MSH-11.2
  std::string version;                        // MSH-12.1, e.g. "2.4"
  std::string acceptAckType;                  // MSH-15
  std::string applicationAckType;             // MSH-16
  std::string charset;  // MSH-18 repetition 1 as sent, spaces trimmed; "" = 8859/1
};

// Which messages a receiver accepts. An empty list accepts any value.
struct HeaderPolicy {
  std::vector<std::string> messageTypes;   // MSH-9.1, e.g. {"ADT", "ORU"}         → 200
  std::vector<std::string> events;         // "TYPE^TRIGGER", e.g. {"ADT^A01"}      → 201
  std::vector<std::string> processingIds;  // MSH-11.1, e.g. {"P"}                  → 202
  std::vector<std::string> versions;       // MSH-12.1, e.g. {"2.4"}                → 203
};

// Appends an error (severity kError) to `errors` for each header value the policy refuses:
// 200 at MSH-9.1, 201 at MSH-9.2 (only checked when the type is accepted), 202 at MSH-11,
// 203 at MSH-12. Returns true when nothing was refused. The HL7 answer to any of these is AR.
bool checkHeader(const Header& header, const HeaderPolicy& policy, ErrorList& errors);

}  // namespace acp::hl7v2
