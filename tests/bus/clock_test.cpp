#include <gtest/gtest.h>

#include "nonaxis/bus/clock.hpp"

namespace nonaxis::bus {
namespace {

TEST(Clock, ParsesTheFormsTheBusUses) {
  const auto a = parse_rfc3339("2026-02-14T18:00:00+00:00");
  const auto b = parse_rfc3339("2026-02-14T18:00:00Z");
  const auto c = parse_rfc3339("2026-02-14T19:30:00.500000+01:30");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*c - *a, std::chrono::milliseconds(500));
  EXPECT_EQ(rfc3339_seconds_offset(*a), "2026-02-14T18:00:00+00:00");
}

TEST(Clock, RejectsEverythingElse) {
  for (const char* s : {"", "2026-02-14", "2026-02-14 18:00:00Z", "2026-13-14T18:00:00Z", "2026-02-30T18:00:00Z",
                        "2026-02-14T18:00:00", "2026-02-14T18:00:00+0000", "2026-02-14T18:00:00Zjunk"}) {
    EXPECT_FALSE(parse_rfc3339(s)) << s;
  }
}

}  // namespace
}  // namespace nonaxis::bus
