#include <gtest/gtest.h>

#include "nonaxis/bus/canonical_json.hpp"

namespace nonaxis::bus {
namespace {

TEST(CanonicalJson, PythonFormEscapesLikeJsonDumps) {
  // json.dumps({"b": "é\n\"", "a": [1, true, None], "c": "😀"}, sort_keys=True)
  const Json j = {{"b", "\xC3\xA9\n\""}, {"a", Json::array({1, true, nullptr})}, {"c", "\xF0\x9F\x98\x80"}};
  EXPECT_EQ(python_sorted_dumps(j), R"({"a": [1, true, null], "b": "\u00e9\n\"", "c": "\ud83d\ude00"})");
}

TEST(CanonicalJson, PythonFormRefusesFloats) { EXPECT_THROW(python_sorted_dumps(Json{{"x", 1.5}}), std::invalid_argument); }

TEST(CanonicalJson, BusFormIsSortedAndCompact) {
  EXPECT_EQ(canonical_dump(Json{{"z", 1}, {"a", {{"y", "x"}, {"b", 2}}}}), R"({"a":{"b":2,"y":"x"},"z":1})");
}

}  // namespace
}  // namespace nonaxis::bus
