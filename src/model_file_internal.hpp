// What the binary model format and the network2 JSON format share: reading
// a whole file safely, and the checks every loaded model goes through.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "backprop/model_file.hpp"

namespace backprop::detail {

// Throws InputError "<path>: <problem>; <fix>".
[[noreturn]] void fail(const std::filesystem::path& path, const std::string& problem,
                       std::string_view fix);

// The file's bytes. Refuses a missing file, a folder, or one larger than
// `max_bytes` (before allocating); `kind` names what the file should be.
std::string read_whole_file(const std::filesystem::path& path, std::uint64_t max_bytes,
                            std::string_view kind);

// The sum over layers of n_l n_{l-1} + n_l, or -1 above 2^62 (absurd sizes
// in a damaged file must not overflow).
std::int64_t parameter_count(const NetworkSpec& spec);

// "[784, 30, 10]"
std::string sizes_text(const NetworkSpec& spec);

// Where parameter `index` sits, in the book's notation: "W^2 row 3, column 4"
// or "b^1 entry 5" (layers from 1, rows and columns from 0).
std::string describe_parameter(const NetworkSpec& spec, std::int64_t index);

// Each throws InputError starting with `where` (a file name, or a phrase
// such as "x.model: cannot save") on failure.
// The spec is valid and the parameter count is the one it needs.
void check_spec_and_count(const ModelFile& model, const std::string& where, std::string_view fix);
// No parameter is NaN or infinite (the mark of a diverged training run).
void check_finite(const ModelFile& model, const std::string& where);
// Both.
void check_model(const ModelFile& model, const std::string& where, std::string_view fix);

}  // namespace backprop::detail
