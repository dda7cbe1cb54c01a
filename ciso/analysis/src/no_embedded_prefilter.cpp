// The generator of the embedded prefilter databases links this instead of their output:
// while it compiles them, there are none to load.
#include "embedded_prefilter.hpp"

namespace nonaxis::ciso::detail {

std::vector<EmbeddedPrefilter> embedded_prefilters() { return {}; }

}  // namespace nonaxis::ciso::detail
