// SPDX-License-Identifier: MIT
// Class colours: the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies),
// plus the pale tints used for region backgrounds and the colours of the triplet regions.
#pragma once

#include <QColor>

namespace marginlab {

class ClassPalette {
public:
    /// Colour of class `c`; cycles (with a darker shade) beyond the eight base colours.
    static QColor color(int c);
    /// Pale tint of color(c) for decision-region backgrounds (opaque, so probes are exact).
    static QColor background(int c);

    // Triplet-overlay colours (chosen apart from the class colours by their shape, see PlotView2D).
    static QColor hardColor() { return QColor(0xC0, 0x10, 0x10); }
    static QColor semiHardColor() { return QColor(0xF0, 0x9A, 0x00); }
    static QColor easyColor() { return QColor(0x30, 0x90, 0x30); }
    static QColor anchorColor() { return QColor(0x10, 0x10, 0x10); }
};

}  // namespace marginlab
