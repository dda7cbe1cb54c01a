#pragma once
// Dockerfiles an agent writes or submits: what a build runs is the shell form of its RUN
// instructions (`RUN curl … | sh`), which the shell reader cannot see behind the keyword.
#include <string>
#include <string_view>

namespace nonaxis::ciso::detail {

// Dockerfile, Containerfile, Dockerfile.dev, app.dockerfile (any directory).
bool is_dockerfile_name(std::string_view path);

// A FROM line and a RUN line, each at the start of a line.
bool looks_like_dockerfile(std::string_view text);

// `text` as a shell script of its RUN instructions: every other line is blanked and the
// keyword with its flags (`RUN --mount=… `) is replaced by spaces, so lines and columns
// still point into the Dockerfile. Continuation lines and here-documents stay with their
// RUN; the JSON exec form (`RUN ["a", "b"]`) is not shell and is blanked too.
std::string dockerfile_run_script(std::string_view text);

}  // namespace nonaxis::ciso::detail
