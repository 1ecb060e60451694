// Output files (photong/core/file_io.hpp): atomic replacement, write-through for devices, unique
// temporaries within NAME_MAX, refusal before any work, cleanup on signals, and the same-file check.
// Each case is one of issue 22's data-loss reports.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <photong/core/file_io.hpp>

#include "test_util.hpp"

using photong::Error;
using photong::PendingFile;

namespace {

std::string read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

void write_all(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

/// A fresh, empty folder for one test.
std::string fresh_folder(const std::string& name) {
    const std::string dir = photong_test::temp_path("fileio_" + name);
    std::system(("rm -rf '" + dir + "'").c_str());
    REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    return dir;
}

/// Names in `dir` (without . and ..).
std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d))
            if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
        ::closedir(d);
    }
    return out;
}

void put(const std::string& path, const std::string& text) {
    PendingFile f(path);
    f.write(text.data(), text.size());
    f.commit();
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("file_io: a regular file is replaced whole, a symbolic link keeps pointing at the replaced file") {
    const std::string dir = fresh_folder("replace");
    const std::string out = dir + "/out.mid";
    write_all(out, "old");
    ::chmod(out.c_str(), 0640);
    {
        PendingFile f(out);
        f.write("new", 3);
        CHECK(read_all(out) == "old");  // untouched until commit
        f.commit();
    }
    CHECK(read_all(out) == "new");
    struct stat st {};
    REQUIRE(::stat(out.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);  // keeps the replaced file's permissions
    const std::string link = dir + "/link.mid";
    REQUIRE(::symlink("out.mid", link.c_str()) == 0);
    put(link, "via link");
    REQUIRE(::lstat(link.c_str(), &st) == 0);
    CHECK(S_ISLNK(st.st_mode));
    CHECK(read_all(out) == "via link");
    CHECK(entries(dir).size() == 2);  // no temporaries left
    // Not committed: the output is as it was and the temporary is gone.
    {
        PendingFile f(out);
        f.write("lost", 4);
    }
    CHECK(read_all(out) == "via link");
    CHECK(entries(dir).size() == 2);
}

TEST_CASE("file_io: a new file gets 0666 less the umask") {
    const std::string dir = fresh_folder("mode");
    const mode_t old = ::umask(027);
    put(dir + "/a", "x");
    ::umask(old);
    struct stat st {};
    REQUIRE(::stat((dir + "/a").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
}

TEST_CASE("file_io: devices are written through, never replaced (/dev/null, /dev/full)") {
    put("/dev/null", "discarded");
    struct stat st {};
    REQUIRE(::stat("/dev/null", &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    if (::access("/dev/full", W_OK) == 0) {
        const std::string e = error_of([] { put("/dev/full", "no room"); });
        CHECK(has(e, "/dev/full"));
        CHECK(has(e, "No space left on device"));
        REQUIRE(::stat("/dev/full", &st) == 0);
        CHECK(S_ISCHR(st.st_mode));
    }
}

TEST_CASE("file_io: two writers of one output get their own temporaries and the output is one of them, whole") {
    const std::string dir = fresh_folder("race");
    const std::string out = dir + "/same.mid";
    PendingFile a(out), b(out);
    CHECK(a.temp_path() != b.temp_path());
    const std::string ta(100000, 'a'), tb(100000, 'b');
    std::thread t1([&] { a.write(ta.data(), ta.size()); });
    std::thread t2([&] { b.write(tb.data(), tb.size()); });
    t1.join(), t2.join();
    a.commit();
    CHECK(read_all(out) == ta);
    b.commit();
    CHECK(read_all(out) == tb);
    CHECK(entries(dir).size() == 1);
}

TEST_CASE("file_io: long output names keep their temporaries within NAME_MAX") {
    const std::string dir = fresh_folder("long");
    for (std::size_t n : {249u, 255u}) {
        const std::string name = std::string(n - 4, 'x') + ".mid";
        PendingFile f(dir + "/" + name);
        CHECK(photong_test::file_exists(f.temp_path()));
        CHECK(f.temp_path().size() - dir.size() - 1 <= 255);
        f.write("ok", 2);
        f.commit();
        CHECK(read_all(dir + "/" + name) == "ok");
    }
}

TEST_CASE("file_io: a directory, a missing folder or a dangling link is refused before any work, naming the path and the reason") {
    const std::string dir = fresh_folder("refuse");
    std::string e = error_of([&] { PendingFile f(dir); });
    CHECK(has(e, "is a directory"));
    CHECK(has(e, dir));
    e = error_of([&] { PendingFile f(dir + "/no_such_folder/x.mid"); });
    CHECK(has(e, "folder does not exist"));
    CHECK(has(e, "No such file or directory"));
    CHECK(has(e, dir + "/no_such_folder/x.mid"));
    REQUIRE(::symlink("nowhere/x", (dir + "/dangling").c_str()) == 0);
    e = error_of([&] { PendingFile f(dir + "/dangling"); });
    CHECK(has(e, "symbolic link to nothing"));
    CHECK(entries(dir).size() == 1);  // only the link
    if (::geteuid() != 0) {  // root may write anywhere
        const std::string ro = dir + "/ro";
        REQUIRE(::mkdir(ro.c_str(), 0555) == 0);
        e = error_of([&] { PendingFile f(ro + "/x.mid"); });
        CHECK(has(e, "cannot write in the output's folder"));
        CHECK(has(e, "Permission denied"));
    }
    e = error_of([] { PendingFile f(""); });
    CHECK(has(e, "no output file name"));
}

TEST_CASE("file_io: SIGTERM and SIGINT during a write remove the temporary - the process still dies of the signal") {
    for (int sig : {SIGTERM, SIGINT}) {
        const std::string dir = fresh_folder("signal" + std::to_string(sig));
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            photong::remove_temporaries_on_signals();
            PendingFile f(dir + "/out.mid");
            f.write("partial", 7);
            std::raise(sig);
            _exit(0);  // not reached
        }
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status));
        CHECK(WTERMSIG(status) == sig);
        CHECK(entries(dir).empty());
    }
}

TEST_CASE("file_io: an output that is an input or another output is refused, by inode not by spelling") {
    const std::string dir = fresh_folder("same");
    const std::string img = dir + "/img.jpg";
    write_all(img, "jpeg");
    REQUIRE(::link(img.c_str(), (dir + "/hard.jpg").c_str()) == 0);
    REQUIRE(::symlink("img.jpg", (dir + "/soft.jpg").c_str()) == 0);
    using photong::require_distinct_files;
    for (const std::string& out : {img, dir + "/hard.jpg", dir + "/soft.jpg", dir + "/./img.jpg"}) {
        const std::string e = error_of([&] { require_distinct_files({{"IMAGE", img}}, {{"-o", out}}); });
        CHECK(has(e, "is the same file as the input IMAGE"));
        CHECK(has(e, out));
    }
    // Two outputs that do not exist yet but name one file.
    REQUIRE(::mkdir((dir + "/sub").c_str(), 0755) == 0);
    std::string e = error_of([&] { require_distinct_files({}, {{"-o", dir + "/x.mid"}, {"--png", dir + "/sub/../x.mid"}}); });
    CHECK(has(e, "is the same file as the output -o"));
    // Allowed: different files, /dev/null twice, one input given twice, empty paths.
    CHECK(error_of([&] { require_distinct_files({{"IMAGE", img}, {"--weights", img}}, {{"-o", dir + "/a.mid"}, {"--png", dir + "/a.png"}}); }) == "(no error)");
    CHECK(error_of([&] { require_distinct_files({{"IMAGE", img}}, {{"-o", "/dev/null"}, {"--png", "/dev/null"}, {"--wav", ""}}); }) == "(no error)");
    CHECK(read_all(img) == "jpeg");
}
