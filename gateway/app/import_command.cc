#include "gateway/app/import_command.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "gateway/app/gateway.h"
#include "gateway/audit/audit_trail.h"
#include "gateway/hl7v2/message_file.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/ingest/push_audit.h"
#include "gateway/store/sql_store.h"

namespace acp::app {

namespace {

constexpr int kExitOk = 0, kExitUsage = 64, kExitDataErr = 65, kExitNoInput = 66,
              kExitTempFail = 75, kExitConfig = 78, kExitSoftware = 70;

// One push to make: a whole file, or one HL7 v2 message of a file.
struct Document {
  std::string file;
  std::string label;  // "a.json", "feed.hl7 message 3"
  std::string bytes;
};

// The media type a partner's documents are kept under on the failure list.
std::string mediaTypeOf(const std::string& source) {
  if (source == "hospice") return "application/json";
  if (source == "community") return "application/xml";
  return "application/hl7-v2";
}

// "code at location; code" — the gateway's codes and FHIRPath locations only (the messages may
// quote values from the record).
std::string codesOf(const IssueList& issues) {
  std::string out;
  std::set<std::string> seen;
  for (const Issue& i : issues.issues()) {
    if (i.severity != Severity::kError && i.severity != Severity::kFatal) continue;
    std::string one = (i.code.empty() ? i.type : i.code) +
                      (i.location.empty() ? "" : " at " + i.location);
    if (!seen.insert(one).second) continue;
    out += (out.empty() ? "" : "; ") + one;
  }
  return out.empty() ? "no error code" : out;
}

// Who ran the import, for its AuditEvents: the operating-system account.
audit::AuditRecord requester() {
  audit::AuditRecord r;
  r.interaction = "operation";
  r.operation = "$import";
  r.clientId = "acp-gateway import";
  r.purpose = "";  // back-loading: no care decision is being made
  const passwd* pw = getpwuid(geteuid());
  std::string account = pw && pw->pw_name ? pw->pw_name : "uid " + std::to_string(geteuid());
  r.userId = account;
  r.userName = "operating-system account " + account;
  return r;
}

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, bool on, size_t total) : out_(out), on_(on), total_(total) {}
  void update(size_t done, size_t records, bool force = false) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && done != total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const int width = 30;
    int filled = total_ ? static_cast<int>(done * width / total_) : width;
    int percent = total_ ? static_cast<int>(done * 100 / total_) : 100;
    out_ << "\r[" << std::string(filled, '#') << std::string(width - filled, '-') << "] "
         << percent << "%  " << done << "/" << total_ << " documents  " << records << " records"
         << std::flush;
  }
  // Moves past the bar before other output, so that lines are not drawn over it.
  void clear() {
    if (on_) out_ << "\r" << std::string(79, ' ') << "\r" << std::flush;
  }
  void finish(size_t done, size_t records) {
    if (!on_) return;
    update(done, records, true);
    out_ << "\n" << std::flush;
  }

 private:
  std::ostream& out_;
  bool on_;
  size_t total_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

int runImport(const Options& options, const ImportRequest& request, std::ostream& out,
              std::ostream& progress, bool tty) {
  static const std::set<std::string> sources = {"hospice", "community", "hl7v2"};
  if (!sources.count(request.source)) {
    out << "import: --source must be hospice, community or hl7v2" << std::endl;
    return kExitUsage;
  }
  if (request.files.empty()) {
    out << "import: no files given (acp-gateway import --source " << request.source
        << " FILE...)" << std::endl;
    return kExitUsage;
  }

  // Every file first: nothing is imported when one cannot be read.
  std::vector<Document> documents;
  bool unreadable = false;
  for (const std::string& file : request.files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    if (in) ss << in.rdbuf();
    if (!in || in.bad()) {
      out << "cannot read " << file << std::endl;
      unreadable = true;
      continue;
    }
    std::string bytes = ss.str();
    if (request.source != "hl7v2") {
      documents.push_back({file, file, std::move(bytes)});
      continue;
    }
    hl7v2::MessageFile split = hl7v2::splitMessageFile(bytes);
    if (split.strayLines)
      out << "skipped   " << file << ": " << split.strayLines
          << " line(s) outside any message (no MSH before them)" << std::endl;
    if (split.unterminatedFrame)
      out << "note      " << file << ": the last MLLP frame has no end byte (read to the end of "
          << "the file)" << std::endl;
    if (split.messages.empty()) out << "skipped   " << file << ": no HL7 v2 message in it" << std::endl;
    for (size_t i = 0; i < split.messages.size(); ++i)
      documents.push_back({file, file + " message " + std::to_string(i + 1),
                           std::move(split.messages[i])});
  }
  if (unreadable) {
    out << "nothing imported" << std::endl;
    return kExitNoInput;
  }

  Options o = options;
  o.demoBundle.clear();  // never loaded into an import
  Gateway gateway(o);
  Status opened = gateway.open();
  if (!opened.isOk()) {
    out << "cannot open the store: " << opened.message() << std::endl;
    return opened.code() == Status::Code::kInvalid ? kExitConfig : kExitSoftware;
  }
  auto store = std::dynamic_pointer_cast<store::SqlStore>(gateway.store());
  if (Status held = store ? store->holdSqliteFile() : Status::ok(); !held.isOk()) {
    out << "cannot import: " << held.message()
        << " — stop the gateway first, or send the files to it (POST /$ingest/"
        << request.source << (request.source == "hl7v2" ? ", or MLLP" : "") << ")" << std::endl;
    return kExitTempFail;
  }
  auto ingest = gateway.ingest();
  const ingest::PartnerMapper* partner = ingest->partner(request.source);
  if (!partner) {
    out << "import: no partner mapping named " << request.source << std::endl;
    return kExitConfig;
  }
  const audit::AuditRecord who = requester();
  const std::string mediaType = mediaTypeOf(request.source);

  size_t counts[4] = {0, 0, 0, 0};  // stored, unchanged, rejected, failed
  size_t refused = 0, done = 0;
  ProgressBar bar(progress, tty, documents.size());
  bar.update(0, 0, true);
  int exit = kExitOk;
  for (const Document& d : documents) {
    ingest::MappedPush push;
    IssueList issues;
    if (!partner->map(d.bytes, push, issues)) {
      ingest->keepDocumentFailure(request.source, mediaType, d.bytes, issues);
      bar.clear();
      out << "refused   " << d.label << ": " << codesOf(issues) << std::endl;
      ++refused;
      ++done;
      bar.update(done, counts[0] + counts[1] + counts[2], true);
      continue;
    }
    ingest::PushAudit audit;
    audit.trail = gateway.audit().get();
    audit.requester = who;
    std::vector<ingest::RecordOutcome> outcomes = ingest->commit(push, true, &audit);
    bool storeFailed = false;
    for (const ingest::RecordOutcome& r : outcomes) {
      bool transient = false;
      for (const Issue& i : r.issues.issues())
        if (i.code == "ingest.store-failed") transient = true;
      if (r.result == ingest::RecordOutcome::Result::kStored) ++counts[0];
      else if (r.result == ingest::RecordOutcome::Result::kUnchanged) ++counts[1];
      else if (transient) {
        ++counts[3];
        storeFailed = true;
      } else {
        ++counts[2];
        bar.clear();
        out << "rejected  " << d.label << " record "
            << (r.recordId.empty() ? std::string("(no id)") : r.recordId) << ": "
            << codesOf(r.issues) << std::endl;
      }
    }
    ++done;
    bar.update(done, counts[0] + counts[1] + counts[2]);
    if (storeFailed || !audit.complete) {
      bar.clear();
      out << "stopped   at " << d.label << ": "
          << (storeFailed ? "the store failed" : "its AuditEvent could not be recorded")
          << "; what was committed is kept — run the import again (records already stored "
             "answer unchanged)"
          << std::endl;
      exit = kExitTempFail;
      break;
    }
  }
  bar.finish(done, counts[0] + counts[1] + counts[2]);
  out << "imported  " << done << " of " << documents.size() << " "
      << (request.source == "hl7v2" ? "message" : "document")
      << (documents.size() == 1 ? "" : "s") << " (" << request.source << ", "
      << request.files.size() << " file" << (request.files.size() == 1 ? "" : "s") << ")";
  if (refused) out << ", " << refused << " refused as unreadable";
  out << "\nrecords   " << counts[0] << " stored, " << counts[1] << " unchanged, " << counts[2]
      << " rejected" << (counts[3] ? ", " + std::to_string(counts[3]) + " failed" : "") << "\n";
  if (counts[2] || refused)
    out << "kept      rejected records and refused documents are on the failure list, for "
           "correction and replay: GET /$ingest/failures?status=open\n";
  out << std::flush;
  if (exit != kExitOk) return exit;
  return counts[2] || refused ? kExitDataErr : kExitOk;
}

}  // namespace acp::app
