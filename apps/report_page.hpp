// The HTML, CSS and script of the training report (apps/report_page.html),
// compiled in so that the program needs no files beside it.
#pragma once

#include <string_view>

namespace backprop::cli {

// Holds the marker /*REPORT_DATA*/ where the run's JSON goes.
extern const std::string_view kReportPage;

}  // namespace backprop::cli
