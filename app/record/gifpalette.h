// SPDX-License-Identifier: MIT
// The one palette of a GIF recording, and the colour → index lookup that maps every frame.
#pragma once

#include <QColor>
#include <QList>
#include <QRgb>
#include <array>
#include <cstdint>
#include <vector>

namespace marginlab {

/**
 * 255 colours plus one transparent index (255), used for every frame of a file: a global
 * palette, so colours never flicker between frames and a class keeps its exact colour.
 *
 * indexOf() returns the exact index for a palette colour and the nearest palette colour
 * (weighted RGB distance, 2:4:3) for any other — the anti-aliased edge of a disc, say. It uses a
 * table of 32768 cells (5 bits per channel): each cell keeps its nearest colour and the list of
 * palette colours that fall inside it, so a palette colour is found exactly and any other colour
 * costs one table read.
 */
class GifPalette {
public:
    static constexpr int kTransparentIndex = 255;
    static constexpr int kMaxColours = 255;

    /// The given colours first (alpha ignored, duplicates dropped, at most 255), then a grey
    /// ramp of up to 16 levels, then the largest uniform colour cube (6³, 5³, … 2³) that fits,
    /// then tints of the given colours towards white (anti-aliased edges on a white ground) until
    /// all 255 slots are used.
    static GifPalette fromColours(const QList<QColor>& colours);
    /// fromColours({}): 16 greys, a 6×6×6 cube and more greys.
    static GifPalette standard();

    /// Number of opaque colours (≤ 255); index kTransparentIndex is never one of them.
    int size() const { return static_cast<int>(m_colours.size()); }
    QRgb colour(int index) const { return m_colours.at(static_cast<std::size_t>(index)); }
    const std::vector<QRgb>& colours() const { return m_colours; }
    /// −1 unless `rgb` (alpha ignored) is exactly a palette colour.
    int exactIndex(QRgb rgb) const;
    /// The exact index of a palette colour, else the nearest colour's index.
    std::uint8_t indexOf(QRgb rgb) const {
        const std::uint32_t key = rgb & 0xFFFFFFu;
        const std::uint32_t cell = ((key >> 9) & 0x7C00u) | ((key >> 6) & 0x03E0u) | ((key >> 3) & 0x001Fu);
        for (std::uint32_t k = m_exactBegin[cell]; k < m_exactBegin[cell + 1]; ++k)
            if (m_exact[k].rgb == key) return m_exact[k].index;
        return m_nearest[cell];
    }

private:
    explicit GifPalette(std::vector<QRgb> colours);
    int nearestIndex(int red, int green, int blue) const;

    struct Exact {
        std::uint32_t rgb;
        std::uint8_t index;
    };
    std::vector<QRgb> m_colours;
    std::vector<std::uint8_t> m_nearest;      // 32768 cells
    std::vector<std::uint32_t> m_exactBegin;  // 32769 offsets into m_exact
    std::vector<Exact> m_exact;               // palette colours sorted by cell
};

}  // namespace marginlab
