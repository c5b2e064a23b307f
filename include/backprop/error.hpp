// Errors thrown by the library.
//
// Every message names what was wrong, where (file, field, flag) and how to fix
// it, so that the command line can print it as one line and exit. InputError
// marks problems with what the user gave us (files, flags, settings): the CLI
// exits with code 2 for those and 1 for everything else.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace backprop {

// A number as a person would write it in a message: 0.5, 1e-06, -1.
inline std::string number_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InputError : public Error {
 public:
  using Error::Error;
};

// Training produced a NaN or an infinity; the message says where and what
// usually fixes it.
class NumericError : public Error {
 public:
  using Error::Error;
};

}  // namespace backprop
