// error.hpp is header-only; this unit anchors the vtables of the error types.
#include "backprop/error.hpp"
