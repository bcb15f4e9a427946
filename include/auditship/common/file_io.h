#pragma once
// Whole-file writes that a crash never leaves half done, for small state files under
// state_dir (caches, keys). Not for the hot path: one call writes one file.
#include <sys/types.h>

#include <string>
#include <string_view>

#include "auditship/common/result.h"

namespace auditship {

// Writes all of `bytes` to `fd`, retrying short writes and EINTR. False with errno set.
[[nodiscard]] bool write_all(int fd, std::string_view bytes);

// Replaces `path` with `bytes`: writes `path`.tmp (mode `mode`, whatever the umask), fsyncs it
// and renames it over `path`, so a reader sees the old file or the whole new one. The
// directory is not fsynced: after a crash the rename may be lost, which only suits files the
// caller can do without (a cache). Errors name the file and errno.
[[nodiscard]] Status replace_file(const std::string& path, std::string_view bytes, mode_t mode);

}  // namespace auditship
