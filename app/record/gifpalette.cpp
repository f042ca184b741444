// SPDX-License-Identifier: MIT
#include "gifpalette.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace marginlab {

namespace {

constexpr int kCells = 1 << 15;

std::uint32_t cellOf(QRgb rgb) {
    return ((rgb >> 9) & 0x7C00u) | ((rgb >> 6) & 0x03E0u) | ((rgb >> 3) & 0x001Fu);
}

}  // namespace

GifPalette GifPalette::fromColours(const QList<QColor>& colours) {
    std::vector<QRgb> out;
    std::unordered_set<QRgb> seen;
    auto add = [&](QRgb rgb) {
        rgb = qRgb(qRed(rgb), qGreen(rgb), qBlue(rgb));
        if (static_cast<int>(out.size()) < kMaxColours && seen.insert(rgb).second) out.push_back(rgb);
    };
    for (const QColor& colour : colours) add(colour.rgb());
    const std::vector<QRgb> given = out;

    for (int level = 0; level < 16; ++level) add(qRgb(level * 17, level * 17, level * 17));
    // The largest cube that still fits in what is left (the cube's corners may repeat greys).
    for (int levels = 6; levels >= 2; --levels) {
        if (static_cast<int>(out.size()) + levels * levels * levels > kMaxColours) continue;
        for (int r = 0; r < levels; ++r)
            for (int g = 0; g < levels; ++g)
                for (int b = 0; b < levels; ++b)
                    add(qRgb(r * 255 / (levels - 1), g * 255 / (levels - 1), b * 255 / (levels - 1)));
        break;
    }
    // Tints of the given colours towards white: the anti-aliased rim of a class-coloured disc.
    for (int step = 1; step <= 3 && static_cast<int>(out.size()) < kMaxColours; ++step) {
        for (QRgb c : given) {
            const auto tint = [step](int v) { return v + (255 - v) * step / 4; };
            add(qRgb(tint(qRed(c)), tint(qGreen(c)), tint(qBlue(c))));
        }
    }
    // Whatever is left: a finer grey ramp.
    for (int level = 0; level < 256 && static_cast<int>(out.size()) < kMaxColours; level += 3)
        add(qRgb(level, level, level));
    return GifPalette(std::move(out));
}

GifPalette GifPalette::standard() {
    return fromColours({});
}

GifPalette::GifPalette(std::vector<QRgb> colours) : m_colours(std::move(colours)) {
    // Nearest colour of each cell's centre.
    m_nearest.resize(kCells);
    for (int cell = 0; cell < kCells; ++cell) {
        const int red = ((cell >> 10) & 31) * 8 + 4, green = ((cell >> 5) & 31) * 8 + 4,
                  blue = (cell & 31) * 8 + 4;
        m_nearest[static_cast<std::size_t>(cell)] = static_cast<std::uint8_t>(nearestIndex(red, green, blue));
    }
    // Palette colours grouped by cell (a counting sort), for the exact-match path.
    m_exactBegin.assign(kCells + 1, 0);
    for (QRgb c : m_colours) ++m_exactBegin[cellOf(c) + 1];
    for (int cell = 0; cell < kCells; ++cell) m_exactBegin[cell + 1] += m_exactBegin[cell];
    m_exact.resize(m_colours.size());
    std::vector<std::uint32_t> fill(m_exactBegin.begin(), m_exactBegin.end() - 1);
    for (std::size_t i = 0; i < m_colours.size(); ++i) {
        const QRgb c = m_colours[i] & 0xFFFFFFu;
        m_exact[fill[cellOf(c)]++] = Exact{c, static_cast<std::uint8_t>(i)};
    }
}

int GifPalette::nearestIndex(int red, int green, int blue) const {
    int best = 0;
    long bestDistance = std::numeric_limits<long>::max();
    for (std::size_t i = 0; i < m_colours.size(); ++i) {
        const long dr = qRed(m_colours[i]) - red, dg = qGreen(m_colours[i]) - green,
                   db = qBlue(m_colours[i]) - blue;
        const long distance = 2 * dr * dr + 4 * dg * dg + 3 * db * db;
        if (distance < bestDistance) {
            bestDistance = distance;
            best = static_cast<int>(i);
        }
    }
    return best;
}

int GifPalette::exactIndex(QRgb rgb) const {
    const std::uint32_t key = rgb & 0xFFFFFFu;
    const std::uint32_t cell = cellOf(key);
    for (std::uint32_t k = m_exactBegin[cell]; k < m_exactBegin[cell + 1]; ++k)
        if (m_exact[k].rgb == key) return m_exact[k].index;
    return -1;
}

}  // namespace marginlab
