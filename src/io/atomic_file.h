// Output files that appear whole or not at all: content goes to a temporary
// file in the target's folder (same file system), is flushed to disk, and is
// renamed over the target only once complete. An interrupted or failed run
// leaves the previous file (if any) untouched and no partial file behind.
// A target that exists but is not a regular file (/dev/stdout, a pipe) is
// written directly: there is nothing to replace atomically.
#pragma once
#include <cstdio>
#include <string>
#include <string_view>

namespace fastdml::io {

class AtomicFile {
 public:
  // Creates the temporary file "<path>.tmp.<pid>.<k>"; UsageError when the
  // folder is not writable.
  explicit AtomicFile(const std::string& path);
  // Without Commit() the temporary file is removed and `path` is untouched.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // UsageError (naming the path) on a short write, e.g. a full disk.
  void Write(std::string_view bytes);
  // Flushes, fsyncs and renames over the target; UsageError on failure.
  void Commit();
  const std::string& temp_path() const { return temp_path_; }

 private:
  [[noreturn]] void Fail(const std::string& what, int err);

  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
  bool direct_ = false;  // target is not a regular file (a device, a pipe)
};

// Writes `content` to `path` through an AtomicFile.
void WriteFileAtomic(const std::string& path, const std::string& content);

}  // namespace fastdml::io
