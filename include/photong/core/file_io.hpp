// photong/core/file_io.hpp — writing output files so that nothing is ever left half-written, and
// nothing that is not the output is ever replaced.
//
// PendingFile is the one way photong writes a file:
//   - an existing regular file (or a symbolic link to one) is replaced atomically: the bytes go to a
//     unique temporary beside the real target (mkstemp, so two runs never share one) and are renamed
//     over it on commit(). A symbolic link stays a link: its target is replaced.
//   - an existing path that is not a regular file (/dev/null, /dev/stdout, a FIFO) is written through
//     at commit(), never renamed over: the bytes wait in a temporary under $TMPDIR (or /tmp).
//   - a directory, a dangling symbolic link, or a missing or unwritable folder is refused at
//     construction, before the caller does any work, naming the user's path and the OS reason.
//   - the temporary's name is "." + the output's name cut short + ".tmp" + 6 random characters, at
//     most NAME_MAX (255) bytes even for a 255-byte output name.
//   - until commit() the temporary is listed in a process-wide table; remove_temporaries_on_signals()
//     installs SIGINT / SIGTERM / SIGHUP handlers that unlink every listed temporary and then die of
//     the signal as before. A library does not install signal handlers by itself: the CLIs call it.
// The final file gets the permissions a plain open() would give it (0666 less the umask), or keeps
// those of the file it replaces. POSIX only (Linux, macOS, emscripten).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "photong/core/error.hpp"

namespace photong {

namespace file_io_detail {

/// " (No such file or directory)" for errno e.
inline std::string reason(int e) { return std::string(" (") + std::strerror(e) + ")"; }

inline std::string folder_of(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

inline std::string name_of(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The table of live temporaries, read by the signal handler. Fixed slots of fixed size, so the
// handler touches no allocator; a slot is claimed with a compare-exchange and published by `used`.
constexpr int kSlots = 64;
constexpr std::size_t kSlotBytes = PATH_MAX;
struct Slot {
    std::atomic<int> used{0};  // 0 free, 1 being written, 2 live
    char path[kSlotBytes];
};
inline Slot* slots() {
    static Slot table[kSlots];
    return table;
}

inline int register_temporary(const std::string& path) {
    if (path.size() >= kSlotBytes) return -1;
    for (int i = 0; i < kSlots; ++i) {
        int expected = 0;
        if (slots()[i].used.compare_exchange_strong(expected, 1)) {
            std::memcpy(slots()[i].path, path.c_str(), path.size() + 1);
            slots()[i].used.store(2);
            return i;
        }
    }
    return -1;  // table full: the file is still cleaned up normally, only not on a signal
}

inline void unregister_temporary(int slot) {
    if (slot >= 0) slots()[slot].used.store(0);
}

inline void remove_temporaries_and_die(int sig) {
    for (int i = 0; i < kSlots; ++i)
        if (slots()[i].used.load() == 2) ::unlink(slots()[i].path);  // async-signal-safe
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

inline mode_t creation_mode() {
    // umask cannot be read without setting it; the two calls are adjacent and run before any thread
    // of ours writes files.
    const mode_t mask = ::umask(022);
    ::umask(mask);
    return mode_t(0666) & ~mask;
}

}  // namespace file_io_detail

/// What a path is, for messages: "a directory", "a FIFO (named pipe)", ...; "" for a regular file.
inline std::string non_regular_kind(const struct stat& st) {
    if (S_ISREG(st.st_mode)) return "";
    if (S_ISDIR(st.st_mode)) return "a directory";
    if (S_ISFIFO(st.st_mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(st.st_mode)) return "a character device";
    if (S_ISBLK(st.st_mode)) return "a block device";
    if (S_ISSOCK(st.st_mode)) return "a socket";
    return "not a regular file";
}

/// Refuses, before opening it, an input that does not exist or is not a regular file (opening a FIFO
/// would block until something writes to it; a directory would read as garbage). `what` names the
/// input in the message ("image file", "weights file").
inline void require_regular_file(const std::string& path, const std::string& what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw Error("cannot open " + what + file_io_detail::reason(errno), {path});
    const std::string kind = non_regular_kind(st);
    if (!kind.empty()) throw Error("the " + what + " is " + kind + ", not a file photong can read", {path, "", "a regular file", kind});
}

/// Unlink every pending temporary on SIGINT, SIGTERM and SIGHUP, then die of the signal (exit status
/// 128 + n, as without the handler). Call once, early in main().
inline void remove_temporaries_on_signals() {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, file_io_detail::remove_temporaries_and_die);
}

/// An output file being prepared: write to temp_path() (or let another program do so), then commit().
/// Destroyed without commit(), it removes its temporary and leaves the output as it was.
class PendingFile {
public:
    explicit PendingFile(std::string path) : path_(std::move(path)) {
        using namespace file_io_detail;
        if (path_.empty()) throw Error("no output file name given", {"", "", "a file name", "(empty)"});
        struct stat st {};
        if (::stat(path_.c_str(), &st) == 0) {
            if (S_ISDIR(st.st_mode)) throw Error("the output is a directory, not a file", {path_, "", "a file name", "a directory"});
            if (S_ISREG(st.st_mode)) {
                target_ = resolved(path_);
                mode_ = st.st_mode & 07777;
                make_temporary(folder_of(target_), name_of(target_));
            } else {
                write_through_ = true;  // a device or FIFO: written into at commit, never replaced
                const char* tmpdir = std::getenv("TMPDIR");
                make_temporary(tmpdir && *tmpdir ? tmpdir : "/tmp", name_of(path_));
            }
            return;
        }
        const int e = errno;
        struct stat lst {};
        if (::lstat(path_.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode))
            throw Error("the output is a symbolic link to nothing" + reason(e), {path_, "", "a file name or a link to a file", "a dangling link"});
        if (e != ENOENT) throw Error("cannot use the output file" + reason(e), {path_});
        const std::string folder = folder_of(path_);
        struct stat dst {};
        if (::stat(folder.c_str(), &dst) != 0) throw Error("the output's folder does not exist" + reason(errno), {path_, "", "an existing folder", folder});
        if (!S_ISDIR(dst.st_mode)) throw Error("the output's folder is not a folder", {path_, "", "a folder", folder});
        target_ = path_;
        mode_ = creation_mode();
        make_temporary(folder, name_of(path_));
    }
    ~PendingFile() { discard(); }
    PendingFile(const PendingFile&) = delete;
    PendingFile& operator=(const PendingFile&) = delete;

    /// The user's path (what error messages name).
    const std::string& path() const { return path_; }
    /// Where the bytes go before commit().
    const std::string& temp_path() const { return temp_; }
    /// True when the output is a device or FIFO, written into at commit().
    bool writes_through() const { return write_through_; }

    /// Appends bytes to the temporary.
    void write(const void* data, std::size_t n) {
        const char* p = static_cast<const char*>(data);
        while (n > 0) {
            const ssize_t w = ::write(fd_, p, n);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw Error("cannot write the output file" + file_io_detail::reason(errno), {path_});
            p += w, n -= std::size_t(w);
        }
    }

    /// Puts the finished file in place: renamed over the target, or copied into a device / FIFO.
    void commit() {
        using namespace file_io_detail;
        if (committed_) return;
        if (fd_ >= 0) {
            const int rc = ::close(fd_);
            fd_ = -1;
            if (rc != 0) throw Error("cannot finish the output file" + reason(errno), {path_});
        }
        if (write_through_) {
            copy_into_target();
        } else {
            if (::chmod(temp_.c_str(), mode_) != 0) throw Error("cannot set the output file's permissions" + reason(errno), {path_});
            if (::rename(temp_.c_str(), target_.c_str()) != 0) throw Error("cannot put the output file in place" + reason(errno), {path_});
        }
        unregister_temporary(slot_);
        slot_ = -1;
        committed_ = true;
    }

    /// Removes the temporary without touching the output (what the destructor does before commit()).
    void discard() noexcept {
        if (committed_) return;
        if (fd_ >= 0) ::close(fd_), fd_ = -1;
        if (!temp_.empty()) ::unlink(temp_.c_str());
        file_io_detail::unregister_temporary(slot_);
        slot_ = -1;
        committed_ = true;
    }

private:
    static std::string resolved(const std::string& path) {
        char buf[PATH_MAX];
        if (!::realpath(path.c_str(), buf)) throw Error("cannot resolve the output's path" + file_io_detail::reason(errno), {path});
        return buf;
    }

    void make_temporary(const std::string& folder, const std::string& name) {
        // "." + name + ".tmp" + XXXXXX within NAME_MAX: cut the name, never the unique part.
        const std::size_t room = 255 - std::string(".").size() - std::string(".tmpXXXXXX").size();
        std::string t = folder + "/." + name.substr(0, room) + ".tmpXXXXXX";
        fd_ = ::mkstemp(&t[0]);
        if (fd_ < 0) {
            const int e = errno;
            throw Error(std::string(e == EACCES || e == EROFS || e == EPERM ? "cannot write in the output's folder" : "cannot create the output file") +
                        file_io_detail::reason(e), {path_, "", "", folder});
        }
        temp_ = t;
        slot_ = file_io_detail::register_temporary(temp_);
    }

    void copy_into_target() {
        using file_io_detail::reason;
        const int in = ::open(temp_.c_str(), O_RDONLY);
        if (in < 0) throw Error("cannot reopen the finished output" + reason(errno), {path_});
        const int out = ::open(path_.c_str(), O_WRONLY);  // no O_CREAT / O_TRUNC: it is a device or FIFO
        if (out < 0) {
            const int e = errno;
            ::close(in);
            throw Error("cannot open the output for writing" + reason(e), {path_});
        }
        char buf[1 << 16];
        std::string failure;
        for (;;) {
            const ssize_t r = ::read(in, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) { failure = "cannot read the finished output" + reason(errno); break; }
            if (r == 0) break;
            for (ssize_t off = 0; off < r;) {
                const ssize_t w = ::write(out, buf + off, std::size_t(r - off));
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) { failure = "cannot write the output" + reason(errno); break; }
                off += w;
            }
            if (!failure.empty()) break;
        }
        ::close(in);
        if (::close(out) != 0 && failure.empty()) failure = "cannot finish writing the output" + reason(errno);
        ::unlink(temp_.c_str());
        if (!failure.empty()) throw Error(failure, {path_});
    }

    std::string path_, target_, temp_;
    int fd_ = -1, slot_ = -1;
    mode_t mode_ = 0644;
    bool write_through_ = false, committed_ = false;
};

/// Refuses, before any work, an output that is the same file as an input or as another output
/// (compared by device and inode, so links and different spellings of a path are caught; an output
/// that does not exist yet is identified by its folder's inode and its name). `inputs` and `outputs`
/// are pairs (what the CLI calls it, path), e.g. {"-o", "x.mid"}; empty paths are skipped. Devices
/// and FIFOs (/dev/null twice) are not files that can be lost and are not compared.
inline void require_distinct_files(const std::vector<std::pair<std::string, std::string>>& inputs,
                                   const std::vector<std::pair<std::string, std::string>>& outputs) {
    struct Id { dev_t dev; ino_t ino; std::string name; };
    auto identify = [](const std::string& path, Id& id) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0) {
            if (!S_ISREG(st.st_mode)) return false;
            id = {st.st_dev, st.st_ino, ""};
            return true;
        }
        if (::stat(file_io_detail::folder_of(path).c_str(), &st) != 0) return false;  // PendingFile reports it
        id = {st.st_dev, st.st_ino, file_io_detail::name_of(path)};
        return true;
    };
    std::vector<std::pair<Id, std::size_t>> seen;  // index into all
    std::vector<std::pair<std::string, std::string>> all = inputs;
    all.insert(all.end(), outputs.begin(), outputs.end());
    for (std::size_t i = 0; i < all.size(); ++i) {
        Id id;
        if (all[i].second.empty() || !identify(all[i].second, id)) continue;
        for (const auto& s : seen) {
            if (i < inputs.size()) break;  // two inputs may well be one file
            if (s.first.dev != id.dev || s.first.ino != id.ino || s.first.name != id.name) continue;
            const auto& a = all[s.second];
            const auto& b = all[i];
            const bool input_too = s.second < inputs.size();
            throw Error(std::string("the output ") + b.first + " " + b.second + " is the same file as " + (input_too ? "the input " : "the output ") +
                            a.first + " " + a.second + (input_too ? ": it would be overwritten" : ": one would overwrite the other"),
                        {b.second, "", "a different file", a.second});
        }
        seen.push_back({id, i});
    }
}

/// Writes a whole file through a PendingFile, as one step (the library's writers use it).
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(std::string path) : file_(std::move(path)) {}
    void write(const void* data, std::size_t n) { file_.write(data, n); }
    void commit() { file_.commit(); }

private:
    PendingFile file_;
};

}  // namespace photong
