#include "gateway/app/import_command.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>

#include "gateway/app/gateway.h"
#include "gateway/audit/audit_trail.h"
#include "gateway/hl7v2/message_file.h"
#include "gateway/ingest/ingest_service.h"
#include "gateway/ingest/push_audit.h"
#include "gateway/store/schema_probe.h"
#include "gateway/store/sql_store.h"

namespace acp::app {

namespace {

constexpr int kExitOk = 0, kExitUsage = 64, kExitDataErr = 65, kExitNoInput = 66,
              kExitTempFail = 75, kExitConfig = 78;

// The whole file, false on any read error (an I/O error mid-file too).
bool readWhole(const std::string& file, std::string& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) out.append(buf, static_cast<size_t>(in.gcount()));
  return !in.bad();
}

// One push to make: a whole file, or one HL7 v2 message of a file.
struct Document {
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

std::string accountName(uid_t uid) {
  const passwd* pw = getpwuid(uid);
  return pw && pw->pw_name ? pw->pw_name : "uid " + std::to_string(uid);
}

// Who ran the import, for its AuditEvents: the person who logged in (the kernel's login uid,
// which survives sudo and runuser; SUDO_USER when there is none) and the account it ran as.
audit::AuditRecord requester() {
  audit::AuditRecord r;
  r.interaction = "operation";
  r.operation = "$import";
  r.clientId = "acp-gateway import";
  r.purpose = "";  // back-loading: no care decision is being made
  const std::string runAs = accountName(geteuid());
  std::string person;
  std::ifstream loginuid("/proc/self/loginuid");
  long long uid = -1;
  if (loginuid >> uid && uid >= 0 && uid != 4294967295LL) person = accountName(static_cast<uid_t>(uid));
  if (person.empty())
    if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo) person = sudo;
  if (person.empty()) person = runAs;
  r.userId = person;
  r.userName = "operating-system account " + person + (person == runAs ? "" : " as " + runAs);
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
    std::string line = "[" + std::string(filled, '#') + std::string(width - filled, '-') + "] " +
                       std::to_string(percent) + "%  " + std::to_string(done) + "/" +
                       std::to_string(total_) + " documents  " + std::to_string(records) +
                       " records";
    out_ << "\r" << line << std::flush;
    drawn_ = std::max(drawn_, line.size());
  }
  // Moves past the bar before other output, so that lines are not drawn over it.
  void clear() {
    if (on_ && drawn_) out_ << "\r" << std::string(drawn_, ' ') << "\r" << std::flush;
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
  size_t drawn_ = 0;  // the widest line drawn, blanked by clear()
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

int runImport(const Options& options, const ImportRequest& request, std::ostream& out,
              std::ostream& progress, bool tty) {
  static const std::set<std::string> sources = {"hospice", "community", "hl7v2"};
  int exit = kExitOk;
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
  size_t skipped = 0;  // files, or parts of them, that held no message
  for (const std::string& file : request.files) {
    struct stat st {};
    const bool exists = ::stat(file.c_str(), &st) == 0;
    std::string bytes;
    if (!exists || !S_ISREG(st.st_mode) || !readWhole(file, bytes)) {
      out << "cannot read " << file << (exists && !S_ISREG(st.st_mode) ? " (not a file)" : "")
          << std::endl;
      unreadable = true;
      continue;
    }
    if (request.source != "hl7v2") {
      documents.push_back({file, std::move(bytes)});
      continue;
    }
    hl7v2::MessageFile split = hl7v2::splitMessageFile(bytes);
    if (split.strayLines) {
      out << "skipped   " << file << ": " << split.strayLines
          << " line(s) outside any message (no MSH before them)" << std::endl;
      ++skipped;
    }
    if (split.unterminatedFrames)
      out << "note      " << file << ": " << split.unterminatedFrames
          << " MLLP frame(s) without their end byte (each read up to the next frame)" << std::endl;
    if (split.messages.empty()) {
      out << "skipped   " << file << ": no HL7 v2 message in it" << std::endl;
      ++skipped;
    }
    for (size_t i = 0; i < split.messages.size(); ++i)
      documents.push_back({file + " message " + std::to_string(i + 1), std::move(split.messages[i])});
  }
  if (unreadable) {
    out << "nothing imported" << std::endl;
    return kExitNoInput;
  }

  // The store must exist with this build's schema: an import never creates one (a mistyped
  // gateway.store.url would hide records in a new file) nor migrates one (a running gateway of
  // the previous version may be using it).
  const bool sqlite = options.storeUrl.rfind("sqlite:", 0) == 0;
  const std::string location = sqlite ? options.storeUrl.substr(7) : options.storeUrl;
  const std::string shown = sqlite ? options.storeUrl : "PostgreSQL";  // a URL may hold a password
  auto probe = store::probeSchema(location);
  if (!probe.isOk()) {
    out << "cannot import: the store " << shown << " cannot be read: " << probe.status().message()
        << std::endl;
    return kExitTempFail;
  }
  if (!probe->exists || probe->version == 0) {
    out << "cannot import: there is no store at " << shown
        << " (check gateway.store.url; start the gateway once to create it)" << std::endl;
    return kExitConfig;
  }
  if (probe->version != probe->current) {
    out << "cannot import: the store's schema is version " << probe->version
        << ", this build's is " << probe->current
        << (probe->version < probe->current
                ? " (start this version's gateway once: it migrates the store)"
                : " (the store was migrated by a newer build)")
        << std::endl;
    return kExitConfig;
  }

  Options o = options;
  o.demoBundle.clear();  // never loaded into an import
  Gateway gateway(o);
  Status opened = gateway.open();
  if (!opened.isOk()) {
    bool inUse = opened.message().rfind("store.in-use", 0) == 0;
    out << "cannot import: " << opened.message()
        << (inUse ? " — stop the gateway first, or send the files to it (POST /$ingest/" +
                        request.source + (request.source == "hl7v2" ? ", or MLLP" : "") + ")"
                  : "")
        << std::endl;
    return opened.code() == Status::Code::kInvalid ? kExitConfig : kExitTempFail;
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
  for (const Document& d : documents) {
    ingest::MappedPush push;
    IssueList issues;
    if (!partner->map(d.bytes, push, issues)) {
      Status kept = ingest->keepDocumentFailure(request.source, mediaType, d.bytes, issues);
      // Audited as a live push refused as a whole is: outcome 8, the codes only.
      audit::AuditRecord refusal = who;
      refusal.outcome = audit::kOutcomeSeriousFailure;
      refusal.outcomeText = "the " + request.source + " document cannot be read: " + codesOf(issues);
      Status recorded = gateway.audit()->record(refusal);
      bar.clear();
      out << "refused   " << d.label << ": " << codesOf(issues) << std::endl;
      ++refused;
      ++done;
      if (!kept.isOk() || !recorded.isOk()) {
        out << "stopped   at " << d.label << ": "
            << (!recorded.isOk() ? "its AuditEvent could not be recorded"
                                 : "it could not be kept on the failure list")
            << " — run the import again" << std::endl;
        exit = kExitTempFail;
        break;
      }
      bar.update(done, counts[0] + counts[1] + counts[2], true);
      continue;
    }
    ingest::PushAudit audit;
    audit.trail = gateway.audit().get();
    audit.requester = who;
    std::vector<ingest::RecordOutcome> outcomes = ingest->commit(push, true, &audit);
    bool storeFailed = false, notKept = false;
    for (size_t n = 0; n < outcomes.size(); ++n) {
      const ingest::RecordOutcome& r = outcomes[n];
      for (const Issue& i : r.issues.issues())
        if (i.code == "ingest.not-kept") notKept = true;
      if (r.result == ingest::RecordOutcome::Result::kStored) ++counts[0];
      else if (r.result == ingest::RecordOutcome::Result::kUnchanged) ++counts[1];
      else if (ingest::failedInStore(r)) {
        ++counts[3];
        storeFailed = true;
      } else {
        ++counts[2];
        bar.clear();
        // Its place in the document, not its id (a partner's record id may be the child's
        // local number): the failure list holds the record itself.
        out << "rejected  " << d.label << " record " << n + 1 << " of " << outcomes.size()
            << ": " << codesOf(r.issues) << std::endl;
      }
    }
    ++done;
    bar.update(done, counts[0] + counts[1] + counts[2]);
    if (storeFailed || !audit.complete || notKept) {
      bar.clear();
      out << "stopped   at " << d.label << ": "
          << (storeFailed      ? "the store failed"
              : !audit.complete ? "its AuditEvent could not be recorded"
                                : "a rejected record could not be kept on the failure list")
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
  out << "\nstore     " << shown;
  out << "\nrecords   " << counts[0] << " stored, " << counts[1] << " unchanged, " << counts[2]
      << " rejected" << (counts[3] ? ", " + std::to_string(counts[3]) + " failed" : "") << "\n";
  if (counts[2] || refused)
    out << "kept      rejected records and refused documents are on the failure list, for "
           "correction and replay: GET /$ingest/failures?status=open\n";
  out << std::flush;
  if (exit != kExitOk) return exit;
  return counts[2] || refused || skipped ? kExitDataErr : kExitOk;
}

}  // namespace acp::app
