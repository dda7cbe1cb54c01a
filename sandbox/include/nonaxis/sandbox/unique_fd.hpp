#pragma once
// The sandbox uses the bus's owning descriptor type.
#include <unistd.h>

#include "nonaxis/bus/fd.hpp"

namespace nonaxis::sandbox {
using UniqueFd = bus::UniqueFd;
}  // namespace nonaxis::sandbox
