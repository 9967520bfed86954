// Runs the acp-gateway binary to completion, for tests of how it starts or refuses to start
// (configuration errors: exit code 78 and a message on stderr).
#pragma once

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

namespace acp::testing {

struct ProcessRun {
  int exitCode = -1;
  std::string out;
  std::string err;
};

// A process still running after 20 s is killed (the test then fails on its exit code) rather
// than hanging the suite.
inline ProcessRun runToExit(const std::vector<std::string>& args) {
  Poco::Pipe outPipe, errPipe;
  Poco::ProcessHandle h = Poco::Process::launch(ACP_BINARY, args, nullptr, &outPipe, &errPipe);
  auto exited = std::async(std::launch::async, [&h] { return h.wait(); });
  if (exited.wait_for(std::chrono::seconds(20)) != std::future_status::ready)
    Poco::Process::kill(h);
  ProcessRun r;
  r.exitCode = exited.get();
  Poco::PipeInputStream out(outPipe), err(errPipe);
  Poco::StreamCopier::copyToString(out, r.out);
  Poco::StreamCopier::copyToString(err, r.err);
  return r;
}

}  // namespace acp::testing
