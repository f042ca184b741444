// SPDX-License-Identifier: MIT
#include "classpalette.h"

#include <array>

namespace marginlab {

namespace {

// Okabe & Ito (2008), "Color Universal Design"; black is left out because it is the anchor's colour.
constexpr std::array<QRgb, 8> kBase = {0xE69F00, 0x56B4E9, 0x009E73, 0xCC79A7,
                                      0x0072B2, 0xD55E00, 0xF0E442, 0x999999};

}  // namespace

QColor ClassPalette::color(int c) {
    const int n = static_cast<int>(kBase.size());
    const int index = ((c % n) + n) % n;
    QColor base = QColor::fromRgb(kBase[static_cast<std::size_t>(index)]);
    return c >= n ? base.darker(100 + 40 * (c / n)) : base;
}

QColor ClassPalette::background(int c) {
    const QColor base = color(c);
    // 26 % colour on white: light enough for the points to stand out on top.
    auto mix = [](int v) { return 255 - (255 - v) * 26 / 100; };
    return QColor(mix(base.red()), mix(base.green()), mix(base.blue()));
}

std::vector<QColor> ClassPalette::frameColors(int classes) {
    std::vector<QColor> colors = {Qt::white, Qt::black, hardColor(), semiHardColor(), easyColor(),
                                  QColor(0, 90, 200), QColor(210, 40, 20), QColor(238, 238, 238),
                                  QColor(196, 196, 196), QColor(228, 228, 228),
                                  bandEdgeColor(), QColor(225, 225, 225)};
    for (int c = 0; c < classes; ++c) {
        colors.push_back(color(c));
        colors.push_back(background(c));
        colors.push_back(color(c).darker(170));
    }
    return colors;
}

}  // namespace marginlab
