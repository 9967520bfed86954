// acp-gateway: the server binary. A canonical Poco ServerApplication (convention 5):
// options are read and checked in initialize() (bad configuration exits with EX_CONFIG, 78),
// main() starts the Gateway, prints one "ready http=HOST:PORT" line to stdout, and waits for
// SIGTERM/SIGINT, then stops accepting, finishes in-flight requests and closes the store.
// Commands (the first argument): check-config — every check a start would make, without
// starting (app/config_check.h): a report on stdout, exit 0 when all pass, else 78.
// import --source hospice|community|hl7v2 FILE... — back-loads partner files into the store
// (app/import_command.h; exit codes there).
#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <unistd.h>

#include <iostream>

#include "gateway/app/config_check.h"
#include "gateway/app/gateway.h"
#include "gateway/app/import_command.h"
#include "gateway/app/json_log_formatter.h"
#include "gateway/app/options.h"
#include "gateway/app/process_memory.h"

namespace {

class GatewayApplication : public Poco::Util::ServerApplication {
 protected:
  void defineOptions(Poco::Util::OptionSet& options) override {
    ServerApplication::defineOptions(options);
    options.addOption(Poco::Util::Option("help", "h", "print the options and exit")
                          .required(false)
                          .repeatable(false));
    options.addOption(Poco::Util::Option("config", "c", "read gateway.* keys from FILE")
                          .required(false)
                          .repeatable(true)
                          .argument("FILE"));
    options.addOption(Poco::Util::Option("define", "D", "set a configuration key")
                          .required(false)
                          .repeatable(true)
                          .argument("key=value"));
    options.addOption(Poco::Util::Option("source", "s",
                                         "import: the files' partner format (hospice, "
                                         "community or hl7v2)")
                          .required(false)
                          .repeatable(false)
                          .argument("NAME"));
  }

  void handleOption(const std::string& name, const std::string& value) override {
    ServerApplication::handleOption(name, value);
    if (name == "help") {
      Poco::Util::HelpFormatter help(options());
      help.setCommand(commandName());
      help.setUsage("[check-config | import --source=NAME FILE...] [--config=FILE] [-Dkey=value ...]");
      help.setHeader("ACP Gateway: FHIR R4 server for shared advance care plans.");
      help.format(std::cout);
      helpRequested_ = true;
      stopOptionsProcessing();
    } else if (name == "config") {
      try {
        loadConfiguration(value, PRIO_DEFAULT);
      } catch (const Poco::Exception& e) {
        configError_ = "cannot read --config " + value + ": " + e.displayText();
      }
    } else if (name == "source") {
      source_ = value;
    } else if (name == "define") {
      size_t eq = value.find('=');
      if (eq == std::string::npos)
        configError_ = "-D expects key=value, got " + value;
      else
        config().setString(value.substr(0, eq), value.substr(eq + 1));
    }
  }

  void initialize(Poco::Util::Application& self) override {
    ServerApplication::initialize(self);
    if (helpRequested_) return;
    if (configError_.empty()) {
      auto o = acp::app::readOptions(config());
      if (o.isOk())
        options_ = o.take();
      else
        configError_ = o.status().message();
    }
    if (configError_.empty()) {
      Poco::AutoPtr<Poco::Formatter> fmt;
      if (options_.logFormat == "json")
        fmt = new acp::app::JsonLogFormatter;
      else
        fmt = new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t");
      Poco::AutoPtr<Poco::FormattingChannel> channel(
          new Poco::FormattingChannel(fmt, new Poco::ConsoleChannel(std::cerr)));
      Poco::Logger::root().setChannel(channel);
      Poco::Logger::root().setLevel(options_.logLevel);
      Poco::Logger::get("acp.http").setLevel(options_.logLevel);
    }
  }

  int main(const std::vector<std::string>& args) override {
    if (helpRequested_) return EXIT_OK;
    const std::string command = args.empty() ? "" : args[0];
    if (!command.empty() && command != "check-config" && command != "import") {
      std::cerr << "unknown command " << command << " (commands: check-config, import)"
                << std::endl;
      return EXIT_USAGE;
    }
    if (command != "import" && (!source_.empty() || args.size() > 1)) {
      std::cerr << "--source and file arguments belong to the import command" << std::endl;
      return EXIT_USAGE;
    }
    if (!configError_.empty()) {
      if (command == "check-config") std::cout << "FAIL  options: " << configError_ << std::endl;
      std::cerr << "configuration error: " << configError_ << std::endl;
      return EXIT_CONFIG;
    }
    if (command == "check-config")
      return acp::app::checkConfiguration(options_, std::cout) ? EXIT_OK : EXIT_CONFIG;
    if (command == "import") {
      acp::app::ImportRequest rq;
      rq.source = source_;
      rq.files.assign(args.begin() + 1, args.end());
      return acp::app::runImport(options_, rq, std::cout, std::cerr, ::isatty(2) == 1);
    }
    acp::app::limitMallocArenas();  // before Gateway::start() starts any thread
    acp::app::Gateway gateway(options_);
    acp::Status s = gateway.start();
    if (!s.isOk()) {
      std::cerr << "cannot start: " << s.message() << std::endl;
      return s.code() == acp::Status::Code::kInvalid ? EXIT_CONFIG : EXIT_SOFTWARE;
    }
    acp::app::releaseFreedMemory();
    std::cout << gateway.readyLine() << std::endl;
    waitForTerminationRequest();
    Poco::Logger::get("acp.app").information("stopping");
    gateway.stop();
    return EXIT_OK;
  }

 private:
  bool helpRequested_ = false;
  std::string source_;  // import --source
  std::string configError_;
  acp::app::Options options_;
};

}  // namespace

POCO_SERVER_MAIN(GatewayApplication)
