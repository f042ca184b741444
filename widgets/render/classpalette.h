// SPDX-License-Identifier: MIT
// Class colours: the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies),
// the pale tints of the class regions, and the neutral colours of everything that is not a class
// (triplet regions, anchor, forces), so that an overlay is never mistaken for a class.
#pragma once

#include <QColor>

#include <vector>

namespace marginlab {

class ClassPalette {
public:
    /// Colour of class `c`; cycles (with a darker shade) beyond the eight base colours.
    static QColor color(int c);
    /// Pale tint of color(c) for decision-region backgrounds (opaque, so probes are exact).
    static QColor background(int c);

    // Triplet overlay: greys and black only, told apart by line style (solid / dashed / none).
    static QColor hardColor() { return QColor(0x20, 0x20, 0x20); }
    static QColor semiHardColor() { return QColor(0x60, 0x60, 0x60); }
    static QColor easyColor() { return QColor(0xA0, 0xA0, 0xA0); }
    static QColor anchorColor() { return QColor(0x10, 0x10, 0x10); }
    // A loss's β boundary and band around the anchor (MarginLoss): neutral too, a darker grey
    // fill than the triplet zones, with a dash-dot β ring.
    static QColor bandColor() { return QColor(0, 0, 0, 30); }
    static QColor bandEdgeColor() { return QColor(0x38, 0x38, 0x38); }

    /// Every colour a frame is made of before anti-aliasing (for a GIF's fixed palette).
    static std::vector<QColor> frameColors(int classes);
};

}  // namespace marginlab
