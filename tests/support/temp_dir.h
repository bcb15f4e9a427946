#pragma once
// A fresh directory under $TMPDIR, removed with everything in it when the object dies.
#include <string>

namespace auditship::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }
  // path()/name, created with its parents if missing.
  std::string subdir(const std::string& name) const;

 private:
  std::string path_;
};

// Writes (or appends) `text` to a file.
void write_file(const std::string& path, const std::string& text, bool append = false);
std::string read_file(const std::string& path);

}  // namespace auditship::testing
