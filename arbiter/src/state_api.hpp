#pragma once
// The Arbiter's State API (docs/PROTOCOL.md#state-api) on its HTTP surface:
//   GET  /v1/boot             the session boot payload
//   POST /handoff, /v1/handoff        a signed session_handoff envelope
//   POST /v1/proposals        a signed state_proposal envelope
//   GET  /v1/requests/{id}    the decision (or escalation) for a request or state message
//   GET  /v1/ledger?after=N   ledger entries after the N-th, at most 100 at a time
// Every call is authenticated with the caller's role key (bus/http_auth.hpp). An
// accepted POST is written durably to the Arbiter's private api-inbox, which the
// service loop reviews exactly like a file in pending-review/; the answer is 202
// with the URL to poll.
#include "nonaxis/bus/http_auth.hpp"
#include "nonaxis/bus/http_surface.hpp"
#include "nonaxis/bus/layout.hpp"
#include "service.hpp"

namespace nonaxis::arbiter {

inline constexpr std::size_t kMaxApiBody = 256 * 1024;
inline constexpr std::size_t kLedgerPage = 100;

class StateApi {
 public:
  StateApi(const bus::Layout& layout, const Keys& keys, std::chrono::seconds max_skew);
  void install(bus::HttpSurface& surface);

 private:
  bus::Layout layout_;
  const Keys& keys_;
  bus::HttpAuthenticator auth_;
};

}  // namespace nonaxis::arbiter
