// SPDX-License-Identifier: MIT
#include "marginlab/scene/npy.h"

#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace marginlab::npy {

namespace {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

template <typename T>
T fromLittleEndian(const unsigned char* bytes) {
    unsigned char copy[sizeof(T)];
    std::memcpy(copy, bytes, sizeof(T));
    if constexpr (std::endian::native == std::endian::big)
        for (std::size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(copy[i], copy[sizeof(T) - 1 - i]);
    T value;
    std::memcpy(&value, copy, sizeof(T));
    return value;
}

template <typename T>
void appendLittleEndian(std::string& out, T value) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    if constexpr (std::endian::native == std::endian::big)
        for (std::size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(bytes[i], bytes[sizeof(T) - 1 - i]);
    out.append(reinterpret_cast<const char*>(bytes), sizeof(T));
}

void skipSpaces(const std::string& s, std::size_t& at) {
    while (at < s.size() && (s[at] == ' ' || s[at] == '\t' || s[at] == '\n')) ++at;
}

/// The value text after `'key':` in the header dictionary, or nullopt.
std::optional<std::size_t> valueAfter(const std::string& header, const std::string& key) {
    for (const char quote : {'\'', '"'}) {
        const std::string quoted = std::string(1, quote) + key + std::string(1, quote);
        std::size_t at = header.find(quoted);
        if (at == std::string::npos) continue;
        at += quoted.size();
        skipSpaces(header, at);
        if (at >= header.size() || header[at] != ':') return std::nullopt;
        ++at;
        skipSpaces(header, at);
        return at;
    }
    return std::nullopt;
}

struct Header {
    std::string descr;
    bool fortranOrder = false;
    std::vector<std::int64_t> shape;
};

bool parseHeader(const std::string& text, Header* header, std::string* error) {
    auto fail = [&](const std::string& message) {
        *error = "malformed header: " + message;
        return false;
    };
    auto at = valueAfter(text, "descr");
    if (!at) return fail("no 'descr'");
    std::size_t i = *at;
    if (i >= text.size() || (text[i] != '\'' && text[i] != '"')) return fail("'descr' is not a string");
    const std::size_t close = text.find(text[i], i + 1);
    if (close == std::string::npos) return fail("unterminated 'descr'");
    header->descr = text.substr(i + 1, close - i - 1);

    at = valueAfter(text, "fortran_order");
    if (!at) return fail("no 'fortran_order'");
    if (text.compare(*at, 4, "True") == 0)
        header->fortranOrder = true;
    else if (text.compare(*at, 5, "False") == 0)
        header->fortranOrder = false;
    else
        return fail("'fortran_order' is neither True nor False");

    at = valueAfter(text, "shape");
    if (!at) return fail("no 'shape'");
    i = *at;
    if (i >= text.size() || text[i] != '(') return fail("'shape' is not a tuple");
    ++i;
    for (;;) {
        skipSpaces(text, i);
        if (i < text.size() && text[i] == ')') break;
        std::int64_t value = 0;
        std::size_t digits = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            if (value > (std::numeric_limits<std::int64_t>::max() - 9) / 10)
                return fail("a dimension is too large");
            value = value * 10 + (text[i] - '0');
            ++i, ++digits;
        }
        if (digits == 0) return fail("'shape' holds something other than non-negative integers");
        header->shape.push_back(value);
        skipSpaces(text, i);
        if (i < text.size() && text[i] == ',')
            ++i;
        else if (i < text.size() && text[i] == ')')
            break;
        else
            return fail("'shape' is not closed");
    }
    return true;
}

std::string headerBytes(const std::string& descr, const std::vector<std::int64_t>& shape) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
    for (std::size_t i = 0; i < shape.size(); ++i)
        dict += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "") +
                (i + 1 < shape.size() ? " " : "");
    dict += "), }";
    // Magic (6) + version (2) + length (2) + dictionary + '\n', padded with spaces to a multiple
    // of 64 bytes, as NumPy writes it (aligned data).
    std::size_t total = 10 + dict.size() + 1;
    dict.append((64 - total % 64) % 64, ' ');
    dict += '\n';
    std::string out = "\x93NUMPY";
    out += '\x01';
    out += '\x00';
    appendLittleEndian<std::uint16_t>(out, static_cast<std::uint16_t>(dict.size()));
    return out + dict;
}

}  // namespace

std::int64_t Array::size() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}

std::optional<Array> read(const std::filesystem::path& path, std::int64_t maxValues, std::string* error) {
    auto fail = [&](const std::string& message) -> std::optional<Array> {
        if (error) *error = message;
        return std::nullopt;
    };
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return fail("cannot open: no such file");
    const auto fileSize = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
    std::ifstream in(path, std::ios::binary);
    if (!in || ec) return fail("cannot open for reading");
    unsigned char prefix[12] = {};
    in.read(reinterpret_cast<char*>(prefix), 10);
    if (in.gcount() < 10 || std::memcmp(prefix, "\x93NUMPY", 6) != 0)
        return fail("not a .npy file (no \\x93NUMPY magic)");
    const int major = prefix[6];
    std::int64_t headerLength = 0, headerStart = 10;
    if (major == 1) {
        headerLength = fromLittleEndian<std::uint16_t>(prefix + 8);
    } else if (major == 2 || major == 3) {
        in.read(reinterpret_cast<char*>(prefix + 10), 2);
        if (in.gcount() < 2) return fail("truncated header");
        headerLength = fromLittleEndian<std::uint32_t>(prefix + 8);
        headerStart = 12;
    } else {
        return fail("unknown .npy format version " + std::to_string(major));
    }
    if (headerLength > 1 << 20 || headerStart + headerLength > fileSize) return fail("truncated header");
    std::string text(static_cast<std::size_t>(headerLength), '\0');
    in.read(text.data(), headerLength);
    Header header;
    std::string message;
    if (!parseHeader(text, &header, &message)) return fail(message);
    if (header.fortranOrder)
        return fail("Fortran-ordered arrays are not read; save np.ascontiguousarray(array) instead");

    // '<f8' little-endian double, '|i1' one-byte integer ('=' native is little-endian here).
    std::string descr = header.descr;
    if (descr.size() != 3 || (descr[0] != '<' && descr[0] != '|' && descr[0] != '=')) {
        return fail("dtype '" + header.descr +
                    "' is not read: use little-endian float64, float32 or integers");
    }
    if constexpr (std::endian::native == std::endian::big)
        if (descr[0] == '=') return fail("dtype '" + header.descr + "' is big-endian here");
    const char kind = descr[1];
    const int width = descr[2] - '0';
    const bool real = kind == 'f' && (width == 4 || width == 8);
    const bool integer =
        (kind == 'i' || kind == 'u') && (width == 1 || width == 2 || width == 4 || width == 8);
    if (!real && !integer)
        return fail("dtype '" + header.descr + "' is not read: use float64, float32 or an integer type");

    Array array;
    array.shape = header.shape;
    array.isInteger = integer;
    std::int64_t count = 1;
    for (auto d : array.shape) {
        if (d != 0 && count > maxValues / d)
            return fail("holds more than " + std::to_string(maxValues) + " values (the limit)");
        count *= d;
    }
    if (count > maxValues)
        return fail("holds more than " + std::to_string(maxValues) + " values (the limit)");
    const std::int64_t expected = count * width, present = fileSize - headerStart - headerLength;
    if (present != expected)
        return fail("the shape says " + std::to_string(expected) + " bytes of data, the file has " +
                    std::to_string(present));
    std::vector<unsigned char> data(static_cast<std::size_t>(expected));
    in.read(reinterpret_cast<char*>(data.data()), expected);
    if (in.gcount() != expected) return fail("read error");
    const auto n = static_cast<std::size_t>(count);
    if (real) {
        array.reals.resize(n);
        for (std::size_t i = 0; i < n; ++i)
            array.reals[i] = width == 8 ? fromLittleEndian<double>(&data[i * 8])
                                        : static_cast<double>(fromLittleEndian<float>(&data[i * 4]));
    } else {
        array.integers.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            const unsigned char* p = &data[i * static_cast<std::size_t>(width)];
            std::int64_t v = 0;
            if (kind == 'i') {
                switch (width) {
                    case 1:
                        v = static_cast<std::int8_t>(p[0]);
                        break;
                    case 2:
                        v = fromLittleEndian<std::int16_t>(p);
                        break;
                    case 4:
                        v = fromLittleEndian<std::int32_t>(p);
                        break;
                    default:
                        v = fromLittleEndian<std::int64_t>(p);
                        break;
                }
            } else {
                std::uint64_t u = 0;
                switch (width) {
                    case 1:
                        u = p[0];
                        break;
                    case 2:
                        u = fromLittleEndian<std::uint16_t>(p);
                        break;
                    case 4:
                        u = fromLittleEndian<std::uint32_t>(p);
                        break;
                    default:
                        u = fromLittleEndian<std::uint64_t>(p);
                        break;
                }
                if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                    return fail("value " + std::to_string(u) + " at index " + std::to_string(i) +
                                " is out of range");
                v = static_cast<std::int64_t>(u);
            }
            array.integers[i] = v;
        }
    }
    return array;
}

std::string encode(const std::vector<std::int64_t>& shape, const std::vector<double>& values) {
    std::string out = headerBytes("<f8", shape);
    out.reserve(out.size() + values.size() * 8);
    for (double v : values) appendLittleEndian(out, v);
    return out;
}

std::string encode(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& values) {
    std::string out = headerBytes("<i8", shape);
    out.reserve(out.size() + values.size() * 8);
    for (std::int64_t v : values) appendLittleEndian(out, v);
    return out;
}

}  // namespace marginlab::npy
