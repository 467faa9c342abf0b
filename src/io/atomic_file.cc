#include "io/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "fastdml/error.h"

namespace fastdml::io {
namespace {
// Distinct temporary names for files written concurrently by one process.
std::atomic<unsigned> temp_counter{0};
}  // namespace

AtomicFile::AtomicFile(const std::string& path) : path_(path) {
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {
    // /dev/stdout, a named pipe: nothing to rename over; write through.
    direct_ = true;
    temp_path_ = path;
    file_ = std::fopen(path.c_str(), "wb");
  } else {
    temp_path_ = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(temp_counter++);
    errno = 0;
    file_ = std::fopen(temp_path_.c_str(), "wbx");  // x: never reuse an existing file
  }
  if (file_ == nullptr) {
    const int err = errno;
    throw UsageError("cannot write '" + path_ + "': " + (err ? std::strerror(err) : "unknown error"));
  }
}

AtomicFile::~AtomicFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_ && !direct_) std::remove(temp_path_.c_str());
}

void AtomicFile::Fail(const std::string& what, int err) {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  if (!direct_) std::remove(temp_path_.c_str());
  throw UsageError("cannot write '" + path_ + "': " + what +
                   (err ? std::string(" (") + std::strerror(err) + ")" : std::string()));
}

void AtomicFile::Write(std::string_view bytes) {
  if (file_ == nullptr) throw Error("internal: AtomicFile written after Commit");
  if (bytes.empty()) return;
  errno = 0;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    Fail("short write (disk full?)", errno);
  }
}

void AtomicFile::Commit() {
  if (file_ == nullptr) throw Error("internal: AtomicFile committed twice");
  errno = 0;
  if (std::fflush(file_) != 0) Fail("flush failed (disk full?)", errno);
  // fsync before rename: otherwise a crash of the machine may leave the new
  // name pointing at an empty file on some file systems.
  if (!direct_ && ::fsync(::fileno(file_)) != 0 && errno != EINVAL) Fail("fsync failed", errno);
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (closed != 0) Fail("close failed (disk full?)", errno);
  if (direct_) {
    committed_ = true;
    return;
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    std::remove(temp_path_.c_str());
    throw UsageError("cannot rename '" + temp_path_ + "' to '" + path_ + "': " + std::strerror(err));
  }
  committed_ = true;
}

void WriteFileAtomic(const std::string& path, const std::string& content) {
  AtomicFile file(path);
  file.Write(content);
  file.Commit();
}

}  // namespace fastdml::io
