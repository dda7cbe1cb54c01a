# One place for compiler flags, so every target is built the same way.
add_library(nonaxis_warnings INTERFACE)
target_compile_options(nonaxis_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(NONAXIS_WERROR)
  target_compile_options(nonaxis_warnings INTERFACE -Werror)
endif()

# Hardening that costs nothing measurable on the hot path.
add_compile_options(-fstack-protector-strong -D_GLIBCXX_ASSERTIONS)
if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug" AND NOT NONAXIS_SANITIZE)
  add_compile_options(-D_FORTIFY_SOURCE=2)
endif()

if(NONAXIS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
