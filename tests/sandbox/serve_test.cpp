// The resident supervisor (`serve`) and its client (`run --socket`): the same gate and
// the same refusals as the one-shot CLI, a prepared child on the request's path, a
// fresh launch for tokens the prepared child does not fit, nonces that stay spent
// across supervisor restarts, and a client that holds no key.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/sandbox/content.hpp"
#include "nonaxis/sandbox/exit_codes.hpp"
#include "nonaxis/sandbox/frame_io.hpp"
#include "privileged.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

using testing::issue;
using testing::run_sandbox;
using testing::Supervisor;

constexpr const char* kPrepared = "prepared for this execution before the request, single-use";

struct Served {
  testing::TempDir dir;
  std::filesystem::path script = dir.path() / "job.sh";
  std::unique_ptr<Supervisor> sup;
  explicit Served(std::vector<std::string> flags = {}) {
    testing::set_test_keys();
    testing::write_file(script, "echo approved-output\n");
    start(std::move(flags));
  }
  std::filesystem::path state() const { return dir.path() / "state"; }
  void start(std::vector<std::string> flags = {}) {
    flags.insert(flags.begin(), {"--state-dir", state().string()});
    sup = std::make_unique<Supervisor>(dir.path(), flags);
    ASSERT_TRUE(sup->started()) << log();
  }
  std::string hash() const { return "sha256:" + bus::sha256_hex("echo approved-output\n"); }
  // The client runs without any key in its environment.
  testing::RunResult run(const std::filesystem::path& token_file, const std::filesystem::path& file,
                         std::vector<std::string> args = {}) {
    std::vector<std::string> a = {"run", "--json", "--socket", sup->socket(), "--token", token_file.string(),
                                  "--file", file.string()};
    if (!args.empty()) a.push_back("--");
    a.insert(a.end(), args.begin(), args.end());
    return run_sandbox(a, {"ARBITER_TOKEN_SECRET=", "GOVERNANCE_SIGNING_KEY_SANDBOX="});
  }
  testing::RunResult run(const bus::Json& token, const std::filesystem::path& file) {
    return run(testing::write_token(dir.path(), token), file);
  }
  std::string log() const {
    std::ifstream in(dir.path() / "serve.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string events() const {
    std::ifstream in(state() / "events.jsonl");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

void expect_refused(const testing::RunResult& r, Refusal want) {
  EXPECT_EQ(r.exit_code, code(want)) << r.out_raw << r.err_raw;
  ASSERT_TRUE(r.doc.is_object()) << r.out_raw;
  EXPECT_EQ(r.doc["refusal"]["reason"], std::string(reason(want))) << r.out_raw;
  EXPECT_TRUE(r.doc["record"].is_null());
  EXPECT_EQ(r.doc["stdout"], "");
}

TEST(SandboxServe, ApprovedRunUsesPreparedChildAndSignsRecord) {
  NONAXIS_REQUIRE_ROOT();
  Served s;
  const auto r = s.run(issue(s.hash()), s.script);
  ASSERT_EQ(r.exit_code, 0) << r.out_raw << r.err_raw << s.log();
  EXPECT_EQ(r.doc["stdout"], "approved-output\n");
  const auto& env = r.doc["record"];
  EXPECT_TRUE(bus::verify_envelope(env, bus::KeyRing::from_secret("S", testing::kSandboxKey),
                                   bus::MessageType::kExecutionRecord)
                  .ok);
  EXPECT_EQ(env["payload"]["content_hash"], s.hash());
  EXPECT_EQ(env["payload"]["layers"]["egress"]["net_namespace"], kPrepared);
  EXPECT_TRUE(env["payload"]["timing_ms"]["prepared_before_request"].get<bool>());
  const auto id = env["payload"]["execution_id"].get<std::string>();
  EXPECT_TRUE(std::filesystem::exists(s.state() / "records" / (id + ".json")));
  // The client echoes the request's events on its stderr, as the one-shot CLI does;
  // the supervisor's log has them with who asked.
  EXPECT_NE(r.err_raw.find("sandbox.executed"), std::string::npos) << r.err_raw;
  EXPECT_NE(s.events().find("\"requester\":{"), std::string::npos) << s.events();
}

TEST(SandboxServe, ArgumentsReachTheContent) {
  NONAXIS_REQUIRE_ROOT();
  Served s;
  testing::write_file(s.script, "printf '%s|' \"$@\"\n");
  const auto tok = testing::write_token(s.dir.path(), issue("sha256:" + bus::sha256_hex("printf '%s|' \"$@\"\n")));
  const auto r = s.run(tok, s.script, {"a b", "", "c"});
  ASSERT_EQ(r.exit_code, 0) << r.out_raw << r.err_raw;
  EXPECT_EQ(r.doc["stdout"], "a b||c|");
}

TEST(SandboxServe, RefusalsKeepTheirCodes) {
  NONAXIS_REQUIRE_ROOT();
  Served s;
  auto forged = issue(s.hash());
  forged["scope"]["max_duration_seconds"] = 999;  // altered after signing
  expect_refused(s.run(forged, s.script), Refusal::kTokenBadSignature);
  const auto past = std::chrono::system_clock::now() - std::chrono::hours(2);
  expect_refused(s.run(issue(s.hash(), {}, std::nullopt, "exec_unfamiliar", past), s.script), Refusal::kTokenExpired);
  expect_refused(s.run(issue("sha256:" + bus::sha256_hex("echo something else\n")), s.script),
                 Refusal::kContentMismatch);
  const auto tok = testing::write_token(s.dir.path(), issue(s.hash()));
  ASSERT_EQ(s.run(tok, s.script).exit_code, 0);
  expect_refused(s.run(tok, s.script), Refusal::kNonceReplayed);
  EXPECT_NE(s.events().find("\"reason\":\"nonce_replayed\""), std::string::npos);
}

TEST(SandboxServe, ReplayRefusedAfterSupervisorRestart) {
  NONAXIS_REQUIRE_ROOT();
  Served s;
  const auto tok = testing::write_token(s.dir.path(), issue(s.hash()));
  ASSERT_EQ(s.run(tok, s.script).exit_code, 0);
  EXPECT_EQ(s.sup->stop(), 0);
  s.start();
  expect_refused(s.run(tok, s.script), Refusal::kNonceReplayed);
}

TEST(SandboxServe, ClientRefusesSymlinksAndNeedsTheSupervisor) {
  NONAXIS_REQUIRE_ROOT();
  Served s;
  const auto link = s.dir.path() / "link.sh";
  std::filesystem::create_symlink(s.script, link);
  const auto tok = testing::write_token(s.dir.path(), issue(s.hash()));
  expect_refused(s.run(tok, link), Refusal::kContentUnreadable);
  const auto tok_link = s.dir.path() / "token-link.json";
  std::filesystem::create_symlink(tok, tok_link);
  expect_refused(s.run(tok_link, s.script), Refusal::kTokenMalformed);
  // Neither refusal spent the token.
  ASSERT_EQ(s.run(tok, s.script).exit_code, 0);
  s.sup->stop();
  const auto r = s.run(testing::write_token(s.dir.path(), issue(s.hash())), s.script);
  EXPECT_EQ(r.exit_code, code(Refusal::kSupervisorUnavailable)) << r.out_raw;
  EXPECT_EQ(r.doc["refusal"]["reason"], "supervisor_unavailable");
}

TEST(SandboxServe, RefusesToStartWithoutKeysOrOnABusySocket) {
  NONAXIS_REQUIRE_ROOT();
  Served s;
  // A second supervisor on the same socket is refused; the first keeps serving.
  const auto second = run_sandbox({"serve", "--socket", s.sup->socket(), "--state-dir", s.state().string()});
  EXPECT_EQ(second.exit_code, code(Refusal::kConfig));
  EXPECT_NE(second.err_raw.find("another supervisor is listening"), std::string::npos) << second.err_raw;
  EXPECT_EQ(s.run(issue(s.hash()), s.script).exit_code, 0);
  const auto sock = (s.dir.path() / "nokey.sock").string();
  const auto nokey = run_sandbox({"serve", "--socket", sock, "--state-dir", s.state().string()},
                                 {"ARBITER_TOKEN_SECRET="});
  EXPECT_EQ(nokey.exit_code, code(Refusal::kConfig)) << nokey.err_raw;
  EXPECT_FALSE(std::filesystem::exists(sock));
}

TEST(SandboxServe, SocketIsOwnerOnlyByDefault) {
  NONAXIS_REQUIRE_ROOT();
  Served s;
  struct stat st {};
  ASSERT_EQ(::stat(s.sup->socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600U);
}

// A request that breaks the protocol is refused with config_error and logged; nothing runs.
TEST(SandboxServe, MalformedRequestsAreRefused) {
  NONAXIS_REQUIRE_ROOT();
  Served s;
  auto ask = [&](const std::string& body, std::vector<int> fds) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, s.sup->socket().c_str(), sizeof a.sun_path - 1);
    const UniqueFd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(::connect(c.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(send_frame(c.get(), body, fds), "");
    std::string err;
    const auto head = recv_frame(c.get(), 1 << 20, nullptr, err);
    EXPECT_TRUE(head.has_value()) << err;
    return head ? bus::Json::parse(*head) : bus::Json();
  };
  const UniqueFd tok(::open(testing::write_token(s.dir.path(), issue(s.hash())).c_str(), O_RDONLY | O_CLOEXEC));
  const UniqueFd content(::open(s.script.c_str(), O_RDONLY | O_CLOEXEC));
  for (const auto& [body, fds] : std::vector<std::pair<std::string, std::vector<int>>>{
           {R"({"v":1,"mode":"run","args":[],"extra":1})", {tok.get(), content.get()}},
           {R"({"v":2,"mode":"run"})", {tok.get(), content.get()}},
           {R"({"v":1,"mode":"runner"})", {tok.get(), content.get()}},
           {R"({"v":1,"mode":"run"})", {tok.get()}},
           {"not json", {tok.get(), content.get()}}}) {
    const auto answer = ask(body, fds);
    EXPECT_EQ(answer["exit_code"], code(Refusal::kConfig)) << body << answer.dump();
    EXPECT_EQ(answer["refusal"]["reason"], "config_error") << body;
    EXPECT_TRUE(answer["record"].is_null());
  }
  // The token was never spent: it still runs.
  const auto ok = ask(R"({"v":1,"mode":"run","name":"job.sh","args":[]})", {tok.get(), content.get()});
  EXPECT_EQ(ok["exit_code"], 0) << ok.dump();
}

// Tokens the prepared child does not fit (here: allowed_paths) get a fresh launch.
TEST(SandboxServe, TokenWithAllowedPathsGetsAFreshLaunch) {
  NONAXIS_REQUIRE_ROOT();
  Served s;
  // Outside /tmp, which the sandbox's own view shadows (such a grant is refused).
  std::string tmpl = "/var/tmp/nonaxis-serve-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path shared = tmpl;
  struct Remove {
    std::filesystem::path p;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  } remove{shared};
  std::filesystem::permissions(shared, std::filesystem::perms(0755));
  testing::write_file(shared / "data.txt", "granted\n");
  const std::string body = "cat " + (shared / "data.txt").string() + "\n";
  testing::write_file(s.script, body);
  bus::TokenGrant g;
  g.action_type = "exec_unfamiliar";
  g.content_hash = "sha256:" + bus::sha256_hex(body);
  g.allowed_paths = {"ro:" + shared.string()};
  const auto r = s.run(bus::issue_token(testing::token_key(), g, std::chrono::system_clock::now()), s.script);
  ASSERT_EQ(r.exit_code, 0) << r.out_raw << r.err_raw << s.log();
  EXPECT_EQ(r.doc["stdout"], "granted\n");
  EXPECT_FALSE(r.doc["record"]["payload"]["timing_ms"]["prepared_before_request"].get<bool>());
  EXPECT_NE(r.doc["record"]["payload"]["layers"]["egress"]["net_namespace"], kPrepared);
}

// SIGTERM to the client stops the content; the supervisor still answers with a record.
TEST(SandboxServe, StoppingTheClientStopsTheContent) {
  NONAXIS_REQUIRE_ROOT();
  Served s;
  const std::string body = "sleep 30\n";
  testing::write_file(s.script, body);
  const auto tok = testing::write_token(s.dir.path(), issue("sha256:" + bus::sha256_hex(body)));
  auto fut = std::async(std::launch::async, [&] { return s.run(tok, s.script); });
  // The client is the only nonaxis-sandbox run process of this test: find and stop it.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  bool signalled = false;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream cmd(e.path() / "cmdline");
    std::string c((std::istreambuf_iterator<char>(cmd)), {});
    if (c.find(tok.string()) != std::string::npos && c.find("--socket") != std::string::npos) {
      signalled = ::kill(std::stoi(e.path().filename().string()), SIGTERM) == 0;
    }
  }
  ASSERT_TRUE(signalled);
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const auto r = fut.get();
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.out_raw;
  EXPECT_TRUE(r.doc["record"]["payload"]["exit"]["stopped"].get<bool>()) << r.out_raw;
}

// nonaxis-run, the thin client: the same answer as `nonaxis-sandbox run --socket`, from a
// binary that references no crypto at all (it could not verify or forge a token).
TEST(SandboxServe, ThinClientAnswersAlikeAndCarriesNoCrypto) {
  NONAXIS_REQUIRE_ROOT();
  Served s;
  const auto tok = testing::write_token(s.dir.path(), issue(s.hash()));
  const auto r = testing::run_program(NONAXIS_RUN_BIN, {"--json", "--socket", s.sup->socket(), "--token", tok.string(),
                                                        "--file", s.script.string()},
                                      {"ARBITER_TOKEN_SECRET=", "GOVERNANCE_SIGNING_KEY_SANDBOX="});
  ASSERT_EQ(r.exit_code, 0) << r.out_raw << r.err_raw;
  EXPECT_EQ(r.doc["stdout"], "approved-output\n");
  EXPECT_EQ(r.doc["record"]["payload"]["layers"]["egress"]["net_namespace"], kPrepared);
  const auto again = testing::run_program(NONAXIS_RUN_BIN, {"--json", "--socket", s.sup->socket(), "--token",
                                                            tok.string(), "--file", s.script.string()});
  EXPECT_EQ(again.exit_code, code(Refusal::kNonceReplayed)) << again.out_raw;
  // No HMAC, digest or random-number function is referenced or defined in it.
  const auto nm = testing::run_program("/usr/bin/nm", {"-C", NONAXIS_RUN_BIN});
  ASSERT_EQ(nm.exit_code, 0) << nm.err_raw;
  for (const char* sym : {" HMAC", " EVP_", " RAND_bytes", " SHA256"}) {
    EXPECT_EQ(nm.out_raw.find(sym), std::string::npos) << sym;
  }
}

TEST(SandboxServe, ConcurrentRequestsEachGetTheirOwnChild) {
  NONAXIS_REQUIRE_ROOT();
  Served s({"--workers", "2"});
  std::vector<std::filesystem::path> toks;
  for (int i = 0; i < 6; ++i) toks.push_back(testing::write_token(s.dir.path(), issue(s.hash())));
  std::vector<std::future<testing::RunResult>> runs;
  for (const auto& t : toks) runs.push_back(std::async(std::launch::async, [&s, t] { return s.run(t, s.script); }));
  std::set<std::string> ids;
  for (auto& f : runs) {
    const auto r = f.get();
    ASSERT_EQ(r.exit_code, 0) << r.out_raw << r.err_raw;
    ids.insert(r.doc["record"]["payload"]["execution_id"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), toks.size());
}

}  // namespace
}  // namespace nonaxis::sandbox
