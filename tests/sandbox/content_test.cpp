// Content is hashed from the bytes that execute: a sealed memfd copy.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/sandbox/content.hpp"
#include "nonaxis/sandbox/untrusted_file.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

TEST(SandboxContent, HashAndKind) {
  testing::TempDir d;
  testing::write_file(d.path() / "a.sh", "echo hi\n");
  testing::write_file(d.path() / "b", "#!/bin/sh\necho hi\n");
  const auto a = seal_content(d.path() / "a.sh");
  EXPECT_EQ(a.sha256_hex, bus::sha256_hex("echo hi\n"));
  EXPECT_EQ(a.kind, ContentKind::kShellScript);
  EXPECT_EQ(seal_content(d.path() / "b").kind, ContentKind::kShebang);
  EXPECT_EQ(seal_content("/bin/true").kind, ContentKind::kElf);
}

TEST(SandboxContent, MemfdIsSealedAgainstWrites) {
  testing::TempDir d;
  testing::write_file(d.path() / "a.sh", "echo hi\n");
  const auto a = seal_content(d.path() / "a.sh");
  EXPECT_LT(::write(a.memfd.get(), "x", 1), 0);
  const int seals = ::fcntl(a.memfd.get(), F_GET_SEALS);
  EXPECT_NE(seals & F_SEAL_WRITE, 0);
  EXPECT_NE(seals & F_SEAL_SEAL, 0);
  // Rewriting the original afterwards changes nothing about what would run.
  testing::write_file(d.path() / "a.sh", "rm -rf /work\n");
  char buf[16] = {};
  ASSERT_EQ(::pread(a.memfd.get(), buf, sizeof buf, 0), 8);
  EXPECT_EQ(std::string(buf, 8), "echo hi\n");
}

TEST(SandboxContent, RefusesSymlinkFifoAndOversize) {
  testing::TempDir d;
  testing::write_file(d.path() / "real", "x");
  std::filesystem::create_symlink(d.path() / "real", d.path() / "link");
  EXPECT_THROW(seal_content(d.path() / "link"), UntrustedFileError);
  ::mkfifo((d.path() / "fifo").c_str(), 0600);
  EXPECT_THROW(seal_content(d.path() / "fifo"), UntrustedFileError);
  testing::write_file(d.path() / "big", std::string(2048, 'x'));
  EXPECT_THROW(seal_content(d.path() / "big", 1024), UntrustedFileError);
  EXPECT_THROW(read_untrusted_file(d.path() / "big", 1024), UntrustedFileError);
}

TEST(SandboxContent, RunnerHashCanonicalForm) {
  const std::string bin = bus::sha256_hex("binary");
  const std::string expected =
      bus::sha256_hex("nonaxis-runner-v1\n" + bin + "\n" + "2:-m\n" + "11:http.server\n" + "0:\n");
  EXPECT_EQ(runner_content_hash(bin, {"-m", "http.server", ""}), expected);
  // Argument boundaries are part of the hash: ["a b"] differs from ["a", "b"].
  EXPECT_NE(runner_content_hash(bin, {"a b"}), runner_content_hash(bin, {"a", "b"}));
}

}  // namespace
}  // namespace nonaxis::sandbox
