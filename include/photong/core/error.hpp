// photong/core/error.hpp — the one exception type the library throws, and the checks that build it.
//
// Every failure a user can cause (a bad file, a wrong shape, a missing tensor) surfaces as
// photong::Error with enough context to act on: which file, which tensor, what was expected and
// what was found. Library code never calls exit() or abort() for such conditions.
#pragma once

#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace photong {

/// Where an error happened and what was wrong. Empty fields are left out of the message.
struct ErrorContext {
    ErrorContext(std::string file_ = {}, std::string tensor_ = {}, std::string expected_ = {}, std::string found_ = {})
        : file(std::move(file_)), tensor(std::move(tensor_)), expected(std::move(expected_)), found(std::move(found_)) {}
    std::string file;      ///< file being read or written, if any
    std::string tensor;    ///< tensor / layer / variable name, if any
    std::string expected;  ///< what the code required (a shape, a dtype, a range)
    std::string found;     ///< what it got instead
};

/// The exception thrown for every recoverable failure in photong.
/// what() is a complete, human-readable sentence that includes the context fields.
class Error : public std::runtime_error {
public:
    Error(const std::string& message, ErrorContext context = {})
        : std::runtime_error(compose(message, context)), message_(message), context_(std::move(context)) {}

    const std::string& message() const noexcept { return message_; }
    const ErrorContext& context() const noexcept { return context_; }

private:
    static std::string compose(const std::string& message, const ErrorContext& c) {
        std::string s = "photong: " + message;
        if (!c.file.empty()) s += " [file: " + c.file + "]";
        if (!c.tensor.empty()) s += " [tensor: " + c.tensor + "]";
        if (!c.expected.empty()) s += " [expected: " + c.expected + "]";
        if (!c.found.empty()) s += " [found: " + c.found + "]";
        return s;
    }
    std::string message_;
    ErrorContext context_;
};

/// Formats a shape as "8x8x2048" (or "scalar" for an empty shape) for messages.
template <class Int>
std::string shape_to_string(const std::vector<Int>& shape) {
    if (shape.empty()) return "scalar";
    std::ostringstream os;
    for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? "x" : "") << shape[i];
    return os.str();
}

/// Always-on precondition check (kept in release builds: the inputs come from outside).
inline void require(bool condition, const std::string& message, ErrorContext context = {}) {
    if (!condition) throw Error(message, std::move(context));
}

/// The same check for hot paths: `make_context()` returns the ErrorContext and runs only on failure,
/// and the message is a C string, so a passing check builds no std::string and allocates nothing
/// (the per-step decode loop must not allocate). Use: require(ok, "what", [&] { return ErrorContext{...}; }).
template <class MakeContext, class = decltype(ErrorContext(std::declval<MakeContext&>()()))>
void require(bool condition, const char* message, MakeContext&& make_context) {
    if (!condition) throw Error(message, make_context());
}

}  // namespace photong
