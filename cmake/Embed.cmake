# nonaxis_embed_file(<out.cpp> <namespace> <symbol> <file>): compiles a data file
# (policy, rules) into the binary as `std::string_view <namespace>::<symbol>`, so a
# deployment always has a known-good default and never reads one from a mutable path.
function(nonaxis_embed_file out_cpp ns symbol file)
  file(READ ${file} content)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
  file(WRITE ${out_cpp}.tmp
    "// Generated from ${file} by cmake/Embed.cmake; do not edit.\n"
    "#include <string_view>\nnamespace ${ns} {\nextern const std::string_view ${symbol};\n"
    "const std::string_view ${symbol} = R\"NXEMBED(${content})NXEMBED\";\n}\n")
  configure_file(${out_cpp}.tmp ${out_cpp} COPYONLY)
endfunction()
