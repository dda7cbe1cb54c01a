#pragma once
// Outbound destinations named by commands (curl, nc, ssh, git, ping, dig, socat, ...),
// URLs anywhere in the text, /dev/tcp paths and Python socket tuples.
#include <string>
#include <string_view>
#include <vector>

#include "evidence.hpp"
#include "shell_command.hpp"

namespace nonaxis::ciso::detail {

void connections_from_command(const EffectiveCommand& ec, std::size_t offset, std::vector<Connection>& out);
void connections_from_text(std::string_view text, std::size_t offset, bool fixed_offset, std::vector<Connection>& out);

// localhost, 127/8, ::1, 0.0.0.0: traffic that never leaves the machine.
bool is_loopback(std::string_view host);
int default_port(std::string_view protocol);

}  // namespace nonaxis::ciso::detail
