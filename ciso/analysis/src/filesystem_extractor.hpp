#pragma once
// Filesystem changes a command makes: redirections, and the write-like arguments of
// cp/mv/tee/touch/rm/chmod/sed -i/dd/curl -o/... Paths are reported as written.
#include <string>
#include <string_view>
#include <vector>

#include "evidence.hpp"
#include "shell_command.hpp"

namespace nonaxis::ciso::detail {

void writes_from_command(const EffectiveCommand& ec, const std::vector<Redirect>& redirects, std::size_t offset,
                         std::vector<FsWrite>& out);

// Why a path is sensitive, or "" when it is not.
std::string path_concern(std::string_view path);

// Files a command downloads (curl -o/-O, wget, tftp get), so later execution of them can be
// seen. With `redirects`, also the file a download written to stdout is redirected into
// (`curl -s URL > /tmp/a`, `wget -qO- URL > a`).
std::vector<std::string> downloaded_files(const EffectiveCommand& ec, const std::vector<Redirect>& redirects = {});

}  // namespace nonaxis::ciso::detail
