// The real binary refuses forged, expired, replayed and content-swapped tokens, each
// with its own exit code and event; and a replay after a restart is refused.
#include <gtest/gtest.h>

#include <fstream>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/clock.hpp"
#include "nonaxis/sandbox/exit_codes.hpp"
#include "nonaxis/sandbox/nonce_store.hpp"
#include "privileged.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

using testing::issue;
using testing::run_sandbox;

struct Cli {
  testing::TempDir dir;
  std::filesystem::path script = dir.path() / "job.sh";
  Cli() {
    testing::set_test_keys();
    testing::write_file(script, "echo approved-output\n");
  }
  std::string hash() const { return "sha256:" + bus::sha256_hex("echo approved-output\n"); }
  testing::RunResult run(const bus::Json& token, const std::filesystem::path& file) {
    const auto t = testing::write_token(dir.path(), token);
    return run_sandbox({"run", "--json", "--token", t.string(), "--file", file.string(), "--state-dir",
                        (dir.path() / "state").string()});
  }
  std::string events() const {
    std::ifstream in(dir.path() / "state" / "events.jsonl");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

void expect_refused(const testing::RunResult& r, Refusal want, const Cli& c) {
  EXPECT_EQ(r.exit_code, code(want)) << r.out_raw << r.err_raw;
  ASSERT_TRUE(r.doc.is_object()) << r.out_raw;
  EXPECT_EQ(r.doc["refusal"]["reason"], std::string(reason(want)));
  EXPECT_TRUE(r.doc["record"].is_null());
  EXPECT_EQ(r.doc["stdout"], "");  // nothing ran
  EXPECT_NE(c.events().find("\"reason\":\"" + std::string(reason(want)) + "\""), std::string::npos);
}

TEST(SandboxCli, ApprovedContentRunsAndRecordIsSigned) {
  NONAXIS_REQUIRE_ROOT();
  Cli c;
  const auto r = c.run(issue(c.hash()), c.script);
  ASSERT_EQ(r.exit_code, 0) << r.out_raw << r.err_raw;
  EXPECT_EQ(r.doc["stdout"], "approved-output\n");
  const auto& env = r.doc["record"];
  EXPECT_EQ(env["type"], "execution_record");
  EXPECT_EQ(env["source"], "sandbox");
  EXPECT_EQ(env["payload"]["content_hash"], c.hash());
  EXPECT_EQ(env["payload"]["exit"]["code"], 0);
  const auto ring = bus::KeyRing::from_secret("S", testing::kSandboxKey);
  EXPECT_TRUE(bus::verify_envelope(env, ring, bus::MessageType::kExecutionRecord).ok);
  // Written durably for the Arbiter as well.
  const auto id = env["payload"]["execution_id"].get<std::string>();
  EXPECT_TRUE(std::filesystem::exists(c.dir.path() / "state" / "records" / (id + ".json")));
}

// Pruning forgets only nonces of long-expired tokens: after `maintain` (and a
// restart, which every CLI run is) a replay of the still-valid token is refused.
TEST(SandboxCli, ReplayRefusedAfterPruningAndRestart) {
  NONAXIS_REQUIRE_ROOT();
  Cli c;
  const auto state = c.dir.path() / "state";
  const auto old_nonce = bus::uuid_v4();
  std::filesystem::create_directory(state);
  std::filesystem::permissions(state, std::filesystem::perms(0711));  // as the sandbox makes it
  {
    NonceStore s(state / "nonces");
    ASSERT_EQ(s.spend(old_nonce, "t", "2001-01-01T00:00:00+00:00", *bus::parse_rfc3339("2000-12-31T23:00:00+00:00")),
              SpendResult::kSpent);
  }
  const auto token = issue(c.hash());
  const auto t = testing::write_token(c.dir.path(), token);
  const std::vector<std::string> args = {"run", "--json", "--token", t.string(), "--file", c.script.string(),
                                         "--state-dir", state.string()};
  ASSERT_EQ(run_sandbox(args).exit_code, 0);
  const auto m = run_sandbox({"maintain", "--state-dir", state.string()});
  ASSERT_EQ(m.exit_code, 0) << m.err_raw;
  EXPECT_FALSE(std::filesystem::exists(state / "nonces" / (old_nonce + ".spent"))) << "expired nonce not pruned";
  EXPECT_TRUE(std::filesystem::exists(state / "nonces" / (token["nonce"].get<std::string>() + ".spent")));
  const auto replay = run_sandbox(args);
  EXPECT_EQ(replay.exit_code, code(Refusal::kNonceReplayed)) << replay.out_raw;
}

TEST(SandboxCli, ForgedTokenRefused) {
  NONAXIS_REQUIRE_ROOT();
  Cli c;
  auto t = issue(c.hash());
  t["hmac_signature"] = std::string(64, 'a');
  expect_refused(c.run(t, c.script), Refusal::kTokenBadSignature, c);
}

TEST(SandboxCli, ExpiredTokenRefused) {
  NONAXIS_REQUIRE_ROOT();
  Cli c;
  const auto t = issue(c.hash(), {}, std::nullopt, "exec_unfamiliar", std::chrono::system_clock::now() - std::chrono::hours(2));
  expect_refused(c.run(t, c.script), Refusal::kTokenExpired, c);
}

TEST(SandboxCli, ContentSwappedTokenRefused) {
  NONAXIS_REQUIRE_ROOT();
  Cli c;
  const auto t = issue(c.hash());
  testing::write_file(c.script, "echo something-else-entirely\n");  // swapped after approval
  expect_refused(c.run(t, c.script), Refusal::kContentMismatch, c);
}

TEST(SandboxCli, ReplayRefusedAlsoAfterRestart) {
  NONAXIS_REQUIRE_ROOT();
  Cli c;
  const auto t = issue(c.hash());
  ASSERT_EQ(c.run(t, c.script).exit_code, 0);
  // Every CLI invocation is a fresh process: the second one is a restart.
  expect_refused(c.run(t, c.script), Refusal::kNonceReplayed, c);
  expect_refused(c.run(t, c.script), Refusal::kNonceReplayed, c);
}

TEST(SandboxCli, SymlinkContentRefused) {
  NONAXIS_REQUIRE_ROOT();
  Cli c;
  std::filesystem::create_symlink(c.script, c.dir.path() / "link.sh");
  expect_refused(c.run(issue(c.hash()), c.dir.path() / "link.sh"), Refusal::kContentUnreadable, c);
}

TEST(SandboxCli, MalformedTokenRefused) {
  NONAXIS_REQUIRE_ROOT();
  Cli c;
  testing::write_file(c.dir.path() / "bad.json", "{not json");
  const auto r = run_sandbox({"run", "--json", "--token", (c.dir.path() / "bad.json").string(), "--file",
                              c.script.string(), "--state-dir", (c.dir.path() / "state").string()});
  EXPECT_EQ(r.exit_code, code(Refusal::kTokenMalformed));
}

TEST(SandboxCli, MissingOrPlaceholderKeyIsConfigError) {
  NONAXIS_REQUIRE_ROOT();
  Cli c;
  const auto t = testing::write_token(c.dir.path(), issue(c.hash()));
  const auto r = run_sandbox({"run", "--json", "--token", t.string(), "--file", c.script.string(), "--state-dir",
                              (c.dir.path() / "state").string()},
                             {"ARBITER_TOKEN_SECRET=CHANGE-ME-IN-PRODUCTION"});
  EXPECT_EQ(r.exit_code, code(Refusal::kConfig));
  EXPECT_EQ(r.err_raw.find("CHANGE-ME-IN-PRODUCTION"), std::string::npos) << "secret echoed";
}

TEST(SandboxCli, ShebangAndShellContentRun) {
  NONAXIS_REQUIRE_ROOT();
  Cli c;
  const std::string body = "#!/bin/sh\necho \"args:$1:$2\"\nexit 3\n";
  testing::write_file(c.dir.path() / "s", body);
  const auto t = testing::write_token(c.dir.path(), issue("sha256:" + bus::sha256_hex(body)));
  const auto r = run_sandbox({"run", "--json", "--token", t.string(), "--file", (c.dir.path() / "s").string(),
                              "--state-dir", (c.dir.path() / "state").string(), "--", "a", "b c"});
  EXPECT_EQ(r.exit_code, 3) << r.err_raw;
  EXPECT_EQ(r.doc["stdout"], "args:a:b c\n");
  EXPECT_EQ(r.doc["record"]["payload"]["content_kind"], "shebang");
}

}  // namespace
}  // namespace nonaxis::sandbox
