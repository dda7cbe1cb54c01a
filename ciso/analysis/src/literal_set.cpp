#include "literal_set.hpp"

#include <stdexcept>

namespace nonaxis::ciso::detail {

LiteralSet::LiteralSet(const std::vector<std::string>& literals) {
  serial_ = HsScratch::next_serial();
  std::vector<const char*> exprs;
  std::vector<std::size_t> lens;
  std::vector<unsigned> ids;
  for (std::size_t i = 0; i < literals.size(); ++i) {
    ascii_ = ascii_ && ascii_only(literals[i]);
    if (literals[i].empty()) {
      empty_.push_back(static_cast<int>(i));
      continue;
    }
    exprs.push_back(literals[i].data());
    lens.push_back(literals[i].size());
    ids.push_back(static_cast<unsigned>(i));
  }
  if (exprs.empty()) return;
  // SINGLEMATCH: a literal is reported once per scan however often it occurs.
  const std::vector<unsigned> flags(exprs.size(), HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(), static_cast<unsigned>(exprs.size()),
                           HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
    const std::string what = err != nullptr && err->message != nullptr ? err->message : "unknown error";
    hs_free_compile_error(err);
    throw std::runtime_error("literal set: " + what);
  }
  db_.reset(db);
}

void LiteralSet::find(std::string_view text, std::vector<int>& found, HsScratch& scratch) const {
  found = empty_;
  if (!db_) return;
  scratch.scan(db_.get(), serial_, text, found, "literal set");
}

bool LiteralSet::exact_for(std::string_view text) const {
  return ascii_ && text.find("\xE2\x84\xAA") == std::string_view::npos && text.find("\xC5\xBF") == std::string_view::npos;
}

}  // namespace nonaxis::ciso::detail
