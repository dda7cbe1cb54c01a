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

// Records a destination if it looks like a host name or an IP literal and is not loopback.
void add_connection(std::vector<Connection>& out, std::string host, int port, std::string protocol,
                    std::string purpose, std::size_t offset);

// localhost, 127/8, ::1, 0.0.0.0: traffic that never leaves the machine.
bool is_loopback(std::string_view host);
int default_port(std::string_view protocol);

}  // namespace nonaxis::ciso::detail
