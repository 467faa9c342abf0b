// Exception types. User errors (bad options, bad data) name the option, column
// or row at fault; internal errors mean a broken invariant or a library fault.
#pragma once
#include <stdexcept>
#include <string>

namespace fastdml {

// Process exit codes used by the CLI (documented in docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,
  kExitUsage = 2,     // bad command-line option or option value
  kExitBadData = 3,   // input data that cannot be estimated from
  kExitLibrary = 4,   // XGBoost / CUDA failure, wrong library version
  kExitCancelled = 130,  // stopped on request (SIGINT), as shells report it
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  virtual int exit_code() const { return kExitInternal; }
};

// An option or option value the user can fix.
class UsageError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitUsage; }
};

// Input data that cannot be used: message names column and/or row (1-based
// data rows, header excluded).
class DataError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitBadData; }
};

// XGBoost, CUDA or another library failed or is missing/too old.
class LibraryError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitLibrary; }
};

// A CUDA runtime call failed (cuda/check.h, cuda/thrust_check.h); the message
// names the call (or the step), its file:line and CUDA's own description.
class CudaError : public LibraryError {
 public:
  using LibraryError::LibraryError;
};

// A cuBLAS call failed (cuda/cublas_check.h); the message names the call.
class CublasError : public LibraryError {
 public:
  using LibraryError::LibraryError;
};

// The GPU had too little memory for an allocation (cudaMalloc, Thrust's
// scratch or cuBLAS's workspace); the message says what was asked, what is
// free when known, and to use fewer rows or --device cpu.
class DeviceOutOfMemory : public LibraryError {
 public:
  using LibraryError::LibraryError;
};

// A fit stopped because its caller asked it to (FitNuisances' cancel flag;
// the Python package sets it on Ctrl-C).
class Cancelled : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitCancelled; }
};

}  // namespace fastdml
