// photong/core/mapped_file.hpp — read-only bytes of a whole file: memory-mapped on POSIX systems,
// read into memory elsewhere (or when PHOTONG_NO_MMAP is defined, for platforms without mmap).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "photong/core/error.hpp"
#include "photong/core/file_io.hpp"

// Emscripten is left out: its mmap only copies the file into the heap, which reading does with one allocation less.
#if !defined(PHOTONG_NO_MMAP) && !defined(__EMSCRIPTEN__) && (defined(__unix__) || defined(__APPLE__))
#define PHOTONG_HAVE_MMAP 1
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace photong {

class MappedFile {
public:
    explicit MappedFile(const std::string& path) : path_(path) {
        require_regular_file(path, "file");  // before open(): a FIFO would block it
#ifdef PHOTONG_HAVE_MMAP
        const int fd = ::open(path.c_str(), O_RDONLY);
        if (fd < 0) throw Error("cannot open file: " + std::string(std::strerror(errno)), {path});
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd);
            throw Error("not a regular file", {path});
        }
        size_ = std::size_t(st.st_size);
        if (size_ > 0) {
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                ::close(fd);
                throw Error("cannot memory-map file: " + std::string(std::strerror(errno)), {path});
            }
            map_ = static_cast<const unsigned char*>(p);
        }
        ::close(fd);
#else
        std::ifstream in(path, std::ios::binary);
        if (!in) throw Error("cannot open file", {path});
        in.seekg(0, std::ios::end);
        const std::streamoff n = in.tellg();
        if (n < 0) throw Error("cannot determine file size", {path});
        in.seekg(0);
        buffer_.resize(std::size_t(n));
        if (n > 0 && !in.read(reinterpret_cast<char*>(buffer_.data()), n)) throw Error("cannot read file", {path});
        size_ = buffer_.size();
#endif
    }
    /// Bytes already in memory (a download, a fuzzer's input, an embedded resource); `name` stands
    /// for the path in error messages. The bytes are owned by this object.
    MappedFile(std::string name, std::vector<unsigned char> bytes) : path_(std::move(name)), size_(bytes.size()) {
#ifdef PHOTONG_HAVE_MMAP
        owned_ = std::move(bytes);
#else
        buffer_ = std::move(bytes);
#endif
    }
    ~MappedFile() {
#ifdef PHOTONG_HAVE_MMAP
        if (map_) ::munmap(const_cast<unsigned char*>(map_), size_);
#endif
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const unsigned char* data() const {
#ifdef PHOTONG_HAVE_MMAP
        return map_ ? map_ : owned_.data();
#else
        return buffer_.data();
#endif
    }
    std::size_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::size_t size_ = 0;
#ifdef PHOTONG_HAVE_MMAP
    const unsigned char* map_ = nullptr;
    std::vector<unsigned char> owned_;  ///< the bytes of the in-memory constructor
#else
    std::vector<unsigned char> buffer_;
#endif
};

}  // namespace photong
