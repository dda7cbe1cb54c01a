#include "nonaxis/sandbox/seccomp_policy.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/sandbox/durable_write.hpp"
#include "nonaxis/sandbox/unique_fd.hpp"
#include "nonaxis/sandbox/untrusted_file.hpp"

namespace nonaxis::sandbox {
namespace {

using Json = bus::Json;

struct CtxDeleter {
  void operator()(void* c) const { seccomp_release(c); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

int errno_by_name(const std::string& n) {
  if (n == "EPERM") return EPERM;
  if (n == "ENOSYS") return ENOSYS;
  if (n == "EACCES") return EACCES;
  if (n == "EAFNOSUPPORT") return EAFNOSUPPORT;
  throw SeccompPolicyError("unsupported errno name " + n);
}

std::uint32_t action_of(const Json& rule, const char* key, const char* errno_key) {
  const std::string a = rule.at(key).get<std::string>();
  if (a == "allow") return SCMP_ACT_ALLOW;
  if (a == "kill_process") return SCMP_ACT_KILL_PROCESS;
  if (a == "errno") return SCMP_ACT_ERRNO(static_cast<std::uint16_t>(errno_by_name(rule.value(errno_key, "EPERM"))));
  throw SeccompPolicyError("unsupported action " + a);
}

scmp_arg_cmp arg_cmp(const Json& a) {
  scmp_arg_cmp c{};
  c.arg = a.at("index").get<unsigned>();
  if (c.arg > 5) throw SeccompPolicyError("argument index out of range");
  const std::string op = a.at("op").get<std::string>();
  if (op == "eq") {
    c.op = SCMP_CMP_EQ;
    c.datum_a = a.at("value").get<std::uint64_t>();
  } else if (op == "masked_eq") {
    c.op = SCMP_CMP_MASKED_EQ;
    c.datum_a = a.at("mask").get<std::uint64_t>();
    c.datum_b = a.at("value").get<std::uint64_t>();
  } else {
    throw SeccompPolicyError("unsupported comparison " + op);
  }
  return c;
}

int resolve(const std::string& name) { return seccomp_syscall_resolve_name(name.c_str()); }

// libseccomp cannot combine an unconditional allow with conditional denials of the
// same syscall, and has no "masked not-equal". So "allow unless (arg & mask) is one of
// `values`" is written as the complement: for every bit where a path to an excluded
// value branches away from all excluded values, one masked-equal allow rule for that
// branch. An excluded value then matches no allow rule and gets the default denial.
void add_allow_except(scmp_filter_ctx ctx, int nr, const Json& spec) {
  const unsigned index = spec.at("index").get<unsigned>();
  const std::uint64_t mask = spec.at("mask").get<std::uint64_t>();
  std::set<std::uint64_t> excluded;
  for (const auto& v : spec.at("values")) excluded.insert(v.get<std::uint64_t>() & mask);
  if (index > 5 || mask == 0 || excluded.empty()) throw SeccompPolicyError("bad allow_except spec");
  // Walk the set bits of `mask` from the top; `prefix_mask` covers the bits decided so far.
  std::set<std::pair<std::uint64_t, std::uint64_t>> rules;  // (mask, value)
  std::uint64_t prefix_mask = 0;
  for (int bit = 63; bit >= 0; --bit) {
    const std::uint64_t b = std::uint64_t{1} << bit;
    if ((mask & b) == 0) continue;
    for (const std::uint64_t v : excluded) {
      const std::uint64_t sibling = ((v & prefix_mask) | (~v & b));
      bool holds_excluded = false;
      for (const std::uint64_t w : excluded) holds_excluded = holds_excluded || ((w & (prefix_mask | b)) == sibling);
      if (!holds_excluded) rules.insert({prefix_mask | b, sibling});
    }
    prefix_mask |= b;
  }
  for (const auto& [m, v] : rules) {
    scmp_arg_cmp c{};
    c.arg = index;
    c.op = SCMP_CMP_MASKED_EQ;
    c.datum_a = m;
    c.datum_b = v;
    if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &c) != 0) throw SeccompPolicyError("allow_except rule");
  }
}

}  // namespace

CompiledSeccomp compile_seccomp_profile(const std::filesystem::path& path, DenyMode mode) {
  Json p;
  try {
    p = Json::parse(read_untrusted_file(path, 1 << 20));
  } catch (const std::exception& e) {
    throw SeccompPolicyError("seccomp profile " + path.string() + ": " + e.what());
  }
  CompiledSeccomp out;
  try {
    out.name = p.at("name").get<std::string>();
    out.version = p.at("version").get<int>();
    std::uint32_t def = action_of(p, "default_action", "default_errno");
    if (def == SCMP_ACT_ALLOW) throw SeccompPolicyError("default action must deny");
    out.mode = mode;
    if ((def & 0xffff0000U) == SCMP_ACT_ERRNO(0)) {
      out.deny_errno = static_cast<int>(def & 0xffffU);
    }
    // Only the default denial is notified: explicit errno rules (clone3 -> ENOSYS)
    // are compatibility answers, not refusals worth reporting.
    if (mode == DenyMode::kNotify && def != SCMP_ACT_KILL_PROCESS) def = SCMP_ACT_NOTIFY;
    Ctx ctx(seccomp_init(def));
    if (!ctx) throw SeccompPolicyError("seccomp_init failed");
    const std::uint32_t badarch = action_of(p, "foreign_arch_action", "foreign_arch_errno");
    if (badarch == SCMP_ACT_ALLOW) throw SeccompPolicyError("foreign arch action must deny");
    if (seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, badarch) != 0) {
      throw SeccompPolicyError("cannot set foreign-arch action");
    }
    // No new privileges is set by the launcher itself; libseccomp must not try to.
    seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
    // A binary tree of syscall numbers instead of a linear list (libseccomp's level 2).
    // The kernel emulates the whole filter once per syscall number when it is installed
    // (to build its allow cache), so a 290-entry list costs ~0.45 ms per launch; the
    // tree costs a fraction of that, and each of the content's syscalls is checked in
    // ~9 comparisons instead of up to 290.
    if (seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2) != 0) {
      throw SeccompPolicyError("cannot select the binary-tree filter layout");
    }

    std::set<std::string> must_deny;
    for (const auto& n : p.at("must_deny")) must_deny.insert(n.get<std::string>());
    for (const auto& n : p.at("allow")) {
      const std::string name = n.get<std::string>();
      if (must_deny.count(name) != 0) throw SeccompPolicyError("profile allows must-deny syscall " + name);
      const int nr = resolve(name);
      if (nr == __NR_SCMP_ERROR) continue;  // not a syscall of this architecture
      if (seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0) != 0) throw SeccompPolicyError("rule for " + name);
      ++out.allowed_syscalls;
    }
    for (const auto& r : p.at("rules")) {
      const std::string name = r.at("syscall").get<std::string>();
      if (r.at("action") == "allow_except") {
        const int nr = resolve(name);
        if (nr == __NR_SCMP_ERROR) continue;
        add_allow_except(ctx.get(), nr, r.at("arg"));
        continue;
      }
      const std::uint32_t act = action_of(r, "action", "errno");
      if (act == SCMP_ACT_ALLOW && must_deny.count(name) != 0) {
        throw SeccompPolicyError("profile allows must-deny syscall " + name);
      }
      const int nr = resolve(name);
      if (nr == __NR_SCMP_ERROR) continue;
      std::vector<scmp_arg_cmp> cmps;
      if (r.contains("args")) {
        for (const auto& a : r["args"]) cmps.push_back(arg_cmp(a));
      }
      const int rc = seccomp_rule_add_array(ctx.get(), act, nr, static_cast<unsigned>(cmps.size()),
                                            cmps.empty() ? nullptr : cmps.data());
      if (rc != 0) throw SeccompPolicyError("rule for " + name + ": " + std::strerror(-rc));
    }
    for (const auto& name : must_deny) {
      if (resolve(name) != __NR_SCMP_ERROR) ++out.denied_by_name;
    }
    // Export the BPF through a memfd: libseccomp 2.5 has no in-memory export.
    UniqueFd mem(static_cast<int>(::memfd_create("seccomp-bpf", MFD_CLOEXEC)));
    if (!mem.valid()) throw SeccompPolicyError("memfd for BPF export");
    if (seccomp_export_bpf(ctx.get(), mem.get()) != 0) throw SeccompPolicyError("BPF export failed");
    const off_t len = ::lseek(mem.get(), 0, SEEK_END);
    if (len <= 0 || len % static_cast<off_t>(sizeof(sock_filter)) != 0) throw SeccompPolicyError("bad BPF size");
    out.program.resize(static_cast<std::size_t>(len) / sizeof(sock_filter));
    if (::pread(mem.get(), out.program.data(), static_cast<std::size_t>(len), 0) != len) {
      throw SeccompPolicyError("BPF read back failed");
    }
  } catch (const Json::exception& e) {
    throw SeccompPolicyError("seccomp profile " + path.string() + ": " + e.what());
  }
  return out;
}

CompiledSeccomp compile_seccomp_profile_cached(const std::filesystem::path& path,
                                               const std::filesystem::path& cache_dir) {
  std::string bytes;
  try {
    bytes = read_untrusted_file(path, 1 << 20);
  } catch (const std::exception& e) {
    throw SeccompPolicyError("seccomp profile " + path.string() + ": " + e.what());
  }
  // Cache entry: <key>.bpf holds the raw program, <key>.meta the summary and the
  // program's own SHA-256, checked on every read. The key covers the profile bytes
  // and the compiler's settings, so any change to either compiles afresh.
  const std::string key = bus::sha256_hex(bytes + "\nnonaxis-bpf-v3 tree notify libseccomp " + std::to_string(SCMP_VER_MAJOR) + "." +
                                           std::to_string(SCMP_VER_MINOR) + "." + std::to_string(SCMP_VER_MICRO));
  const std::filesystem::path bpf_path = cache_dir / (key + ".bpf");
  const std::filesystem::path meta_path = cache_dir / (key + ".meta");
  try {
    const std::string raw = read_untrusted_file(bpf_path, 1 << 20);
    const Json meta = Json::parse(read_untrusted_file(meta_path, 4096));
    if (!raw.empty() && raw.size() % sizeof(sock_filter) == 0 && meta.at("profile_sha256") == key &&
        meta.at("bpf_sha256") == bus::sha256_hex(raw)) {
      CompiledSeccomp out;
      out.mode = DenyMode::kNotify;
      out.deny_errno = meta.at("deny_errno").get<int>();
      out.name = meta.at("name").get<std::string>();
      out.version = meta.at("version").get<int>();
      out.allowed_syscalls = meta.at("allowed_syscalls").get<std::size_t>();
      out.denied_by_name = meta.at("denied_by_name").get<std::size_t>();
      out.program.resize(raw.size() / sizeof(sock_filter));
      std::memcpy(out.program.data(), raw.data(), raw.size());
      return out;
    }
  } catch (const std::exception&) {
    // Missing or unreadable cache: compile afresh below.
  }
  CompiledSeccomp out = compile_seccomp_profile(path);
  const std::string raw(reinterpret_cast<const char*>(out.program.data()), out.program.size() * sizeof(sock_filter));
  const Json meta = {{"profile_sha256", key},           {"name", out.name},
                     {"version", out.version},          {"allowed_syscalls", out.allowed_syscalls},
                     {"denied_by_name", out.denied_by_name}, {"deny_errno", out.deny_errno},
                     {"bpf_sha256", bus::sha256_hex(raw)}};
  try {
    ensure_directory(cache_dir, 0700);
    write_file_durably(bpf_path, raw);
    write_file_durably(meta_path, meta.dump());
  } catch (const std::exception&) {
    // A cache that cannot be written only costs time.
  }
  return out;
}

int install_seccomp(const std::vector<sock_filter>& program, int* listener) {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size());
  prog.filter = const_cast<sock_filter*>(program.data());
  const unsigned flags = listener != nullptr ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0U;
  const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) return -errno;
  if (listener != nullptr) *listener = static_cast<int>(rc);
  return 0;
}

SeccompDenials::SeccompDenials(int deny_errno) : deny_errno_(deny_errno) {
  // The kernel's structures may be larger than this build's headers: size the
  // buffers as the running kernel says.
  seccomp_notif_sizes sizes{};
  if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) sizes = {};
  req_buf_.assign(std::max<std::size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)), 0);
  resp_buf_.assign(std::max<std::size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)), 0);
}

bool SeccompDenials::answer_one(int listener) {
  std::fill(req_buf_.begin(), req_buf_.end(), 0);  // RECV insists on a zeroed buffer
  auto* req = reinterpret_cast<seccomp_notif*>(req_buf_.data());
  if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
    // ENOENT: the caller died before we read it. Anything else: the listener is done.
    return errno == ENOENT || errno == EINTR;
  }
  std::fill(resp_buf_.begin(), resp_buf_.end(), 0);
  auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf_.data());
  resp->id = req->id;
  resp->error = -deny_errno_;
  resp->val = 0;
  resp->flags = 0;  // never SECCOMP_USER_NOTIF_FLAG_CONTINUE: a denial stays a denial
  (void)::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);  // ENOENT if it died meanwhile
  ++total_;
  const std::pair<std::uint32_t, int> key{req->data.arch, req->data.nr};
  for (auto& [k, n] : seen_) {
    if (k == key) {
      ++n;
      return true;
    }
  }
  if (seen_.size() < kMaxDistinct) {
    seen_.push_back({key, 1});
  } else {
    ++other_;
  }
  return true;
}

std::vector<SeccompDenials::Entry> SeccompDenials::entries() const {
  std::vector<Entry> out;
  for (const auto& [k, n] : seen_) {
    char* name = seccomp_syscall_resolve_num_arch(k.first, k.second);
    out.push_back({name != nullptr ? std::string(name) : "syscall_" + std::to_string(k.second), n});
    std::free(name);
  }
  return out;
}

}  // namespace nonaxis::sandbox
