// Result<T>: the value-or-error returned across module boundaries.
//
// Expected failures (bad config, malformed frame, unknown host, denied request) are values,
// not exceptions. The error carries a message a person can read and act on. Shaped like
// std::expected so it can be swapped for it once the toolchain has C++23.
#pragma once

#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace hostline {

struct Error {
    std::string message;
};

// Marks the error alternative when constructing a Result: `return fail("bad port");`.
inline Error fail(std::string message) {
    return Error{std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return data_.index() == 0; }
    explicit operator bool() const { return ok(); }

    // Calling value() on an error (or error() on a value) is a programming mistake: abort.
    T& value() & { return check_value(), std::get<0>(data_); }
    const T& value() const& { return check_value(), std::get<0>(data_); }
    T&& value() && { return check_value(), std::get<0>(std::move(data_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const {
        if (ok()) std::abort();
        return std::get<1>(data_);
    }

  private:
    void check_value() const {
        if (!ok()) std::abort();
    }
    std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const {
        if (ok_) std::abort();
        return error_;
    }

  private:
    Error error_;
    bool ok_ = true;
};

}  // namespace hostline
