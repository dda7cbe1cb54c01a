// State API authentication: signatures, key ids, skew, replays, roles.
#include <gtest/gtest.h>

#include <map>

#include "nonaxis/bus/http_auth.hpp"

namespace nonaxis::bus {
namespace {

using Clock = std::chrono::system_clock;

struct Fixture {
  KeyRing op = KeyRing::from_secret("OP", std::string(32, 'o'));
  KeyRing ciso = KeyRing::from_secret("CISO", std::string(32, 'c'));
  HttpAuthenticator auth{{{Role::kOperator, &op}, {Role::kCiso, &ciso}}, std::chrono::seconds(30)};

  HttpAuthenticator::Result check(const std::vector<std::pair<std::string, std::string>>& h, const std::string& target = "/v1/boot",
                                  const std::string& body = "", Clock::time_point now = Clock::now()) {
    std::map<std::string, std::string> m(h.begin(), h.end());
    return auth.verify("GET", target, [&m](const char* k) { return m.count(k) ? m[k] : std::string(); }, body, now);
  }
};

TEST(HttpAuth, AcceptsASignedRequestOnce) {
  Fixture f;
  const auto h = sign_http_request(Role::kOperator, f.op.current(), "GET", "/v1/boot", "", Clock::now());
  const auto ok = f.check(h);
  EXPECT_TRUE(ok.ok) << ok.reason;
  EXPECT_EQ(ok.role, Role::kOperator);
  const auto again = f.check(h);
  EXPECT_FALSE(again.ok);
  EXPECT_EQ(again.reason, "replay");
}

TEST(HttpAuth, RefusesEachForgery) {
  Fixture f;
  EXPECT_EQ(f.check({}).reason, "missing_auth");
  auto h = sign_http_request(Role::kOperator, f.op.current(), "GET", "/v1/boot", "", Clock::now());
  EXPECT_EQ(f.check(h, "/v1/ledger").reason, "bad_signature");  // signed for another target
  EXPECT_EQ(f.check(sign_http_request(Role::kOperator, f.op.current(), "GET", "/v1/boot", "body", Clock::now())).reason,
            "bad_signature");  // body differs
  const Key other{"k-0000000000000000", std::string(32, 'x')};
  EXPECT_EQ(f.check(sign_http_request(Role::kOperator, other, "GET", "/v1/boot", "", Clock::now())).reason, "unknown_key");
  // Signed with the CISO's key but claiming to be the Operator: the kid is not the Operator's.
  EXPECT_EQ(f.check(sign_http_request(Role::kOperator, f.ciso.current(), "GET", "/v1/boot", "", Clock::now())).reason, "unknown_key");
  EXPECT_EQ(f.check(sign_http_request(Role::kArbiter, f.op.current(), "GET", "/v1/boot", "", Clock::now())).reason, "unknown_role");
  EXPECT_EQ(f.check(sign_http_request(Role::kOperator, f.op.current(), "GET", "/v1/boot", "", Clock::now() - std::chrono::minutes(5))).reason,
            "stale");
  EXPECT_EQ(f.check(sign_http_request(Role::kOperator, f.op.current(), "GET", "/v1/boot", "", Clock::now() + std::chrono::minutes(5))).reason,
            "stale");
  for (auto& [k, v] : h) {
    if (k == kHdrTimestamp) v = "12x";
  }
  EXPECT_EQ(f.check(h).reason, "bad_timestamp");
}

TEST(HttpAuth, ForgetsNoncesOnlyAfterTheirTimestampsExpire) {
  Fixture f;
  const auto t0 = Clock::now();
  const auto h = sign_http_request(Role::kOperator, f.op.current(), "GET", "/v1/boot", "", t0);
  EXPECT_TRUE(f.check(h, "/v1/boot", "", t0).ok);
  EXPECT_EQ(f.check(h, "/v1/boot", "", t0 + std::chrono::seconds(20)).reason, "replay");
  EXPECT_EQ(f.check(h, "/v1/boot", "", t0 + std::chrono::seconds(40)).reason, "stale");
}

}  // namespace
}  // namespace nonaxis::bus
