// `nonaxis-sandbox run --socket`: the client half of the resident supervisor. It holds
// no key; it only opens the token and the content (as untrusted files, so a symlink or
// FIFO is refused here as in the one-shot CLI) and passes their descriptors on.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "nonaxis/sandbox/content.hpp"
#include "nonaxis/sandbox/frame_io.hpp"
#include "nonaxis/sandbox/serve.hpp"
#include "nonaxis/sandbox/stop_signals.hpp"
#include "nonaxis/sandbox/token_gate.hpp"
#include "nonaxis/sandbox/untrusted_file.hpp"

namespace nonaxis::sandbox {
namespace {

using Json = bus::Json;

// Bounds on the supervisor's answer: the record, and each captured stream (the
// supervisor's own cap is far lower by default).
constexpr std::size_t kMaxAnswerBytes = std::size_t{16} << 20;
constexpr std::size_t kMaxStreamBytes = std::size_t{256} << 20;

SessionOutcome unavailable(const std::string& detail) {
  return refused_outcome(Refusal::kSupervisorUnavailable, detail);
}

// Waits for the answer; a stop signal meanwhile half-closes the connection, which
// the supervisor takes as "stop the content" (it still answers, with the record).
void wait_for_answer(int conn) {
  sigset_t old;
  const UniqueFd sigfd = block_stop_signals(&old);
  bool asked_to_stop = false;
  for (;;) {
    pollfd fds[2] = {{conn, POLLIN, 0}, {asked_to_stop ? -1 : sigfd.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) break;
    if ((fds[1].revents & POLLIN) != 0) {
      ::shutdown(conn, SHUT_WR);
      asked_to_stop = true;
    }
  }
  // Consumed here: a stop signal left pending would kill the client as soon as the
  // mask is restored, before it could print the answer.
  signalfd_siginfo si{};
  while (::read(sigfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
  }
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace

SessionOutcome run_via_supervisor(const ClientRequest& req) {
  UniqueFd token, content;
  try {
    token = open_untrusted_regular(req.token_path, kMaxTokenBytes, nullptr);
  } catch (const UntrustedFileError& e) {
    return refused_outcome(Refusal::kTokenMalformed, e.what());
  }
  try {
    content = open_untrusted_regular(req.file_path, kMaxContentBytes, nullptr);
  } catch (const UntrustedFileError& e) {
    return refused_outcome(Refusal::kContentUnreadable, e.what());
  }
  sockaddr_un addr{};
  try {
    addr = unix_socket_address(req.socket_path);
  } catch (const std::runtime_error& e) {
    return unavailable(e.what());
  }
  const UniqueFd conn(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!conn.valid() || ::connect(conn.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return unavailable("cannot connect to the supervisor at " + req.socket_path + ": " + std::strerror(errno));
  }
  const Json request = {{"v", kServeProtocolVersion},
                        {"mode", "run"},
                        {"name", std::filesystem::path(req.file_path).filename().string()},
                        {"args", req.args}};
  if (const std::string e = send_frame(conn.get(), request.dump(-1, ' ', false, Json::error_handler_t::replace),
                                       {token.get(), content.get()});
      !e.empty()) {
    return unavailable("cannot send the request: " + e);
  }
  wait_for_answer(conn.get());
  std::string err;
  const auto head = recv_frame(conn.get(), kMaxAnswerBytes, nullptr, err);
  if (!head) {
    return unavailable("the supervisor gave no answer (" + (err.empty() ? std::string("connection closed") : err) +
                       "); its event log and execution records say whether the content ran");
  }
  SessionOutcome o;
  try {
    const Json doc = Json::parse(*head);
    o.exit_code = doc.at("exit_code").get<int>();
    o.record = doc.at("record");
    o.events = doc.at("events").get<std::string>();
    const Json& r = doc.at("refusal");
    if (!r.is_null()) {
      o.refusal = refusal_from_code(r.at("code").get<int>());
      if (!o.refusal) return unavailable("the supervisor answered an unknown refusal code");
      o.detail = r.at("detail").get<std::string>();
    }
  } catch (const Json::exception&) {
    return unavailable("the supervisor's answer is malformed");
  }
  const auto out = recv_frame(conn.get(), kMaxStreamBytes, nullptr, err);
  const auto errs = out ? recv_frame(conn.get(), kMaxStreamBytes, nullptr, err) : std::nullopt;
  if (!out || !errs) return unavailable("the supervisor's answer was cut short: " + err);
  o.stdout_data = *out;
  o.stderr_data = *errs;
  return o;
}

}  // namespace nonaxis::sandbox
