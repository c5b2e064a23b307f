// Replacing a file so that a crash, a full disk or a kill at any moment
// leaves either the old contents or the new ones, never a mix.
#pragma once

#include <filesystem>
#include <string_view>

namespace backprop {

// Writes `bytes` to "<path>.tmp.XXXXXX" in the same folder, fsyncs it,
// renames it over `path` and fsyncs the folder. The new file keeps the mode
// of the file it replaces (or gets 0666 less the umask). Throws Error naming
// the path, the failed step and the system's reason; the temporary file is
// then removed and an existing file at `path` is untouched.
void atomic_write(const std::filesystem::path& path, std::string_view bytes);

}  // namespace backprop
