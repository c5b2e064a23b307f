// Where the known data sets live unless --data-dir says otherwise; shared by
// the commands that fetch or read them.
#pragma once

#include <filesystem>

namespace backprop::cli {

// $BACKPROP_DATA if set and not empty, else "data" (relative to the working folder).
std::filesystem::path default_data_dir();

}  // namespace backprop::cli
