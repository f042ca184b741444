// SPDX-License-Identifier: MIT
#include "marginlab/miners/triplet_margin.h"

#include <algorithm>
#include <limits>

namespace marginlab {

TripletMarginMiner::TripletMarginMiner(Real margin, Type type, const DistanceSpec& distance)
    : m_margin(margin), m_type(type), m_distance(distance) {}

std::optional<TripletMarginMiner::Type> TripletMarginMiner::typeFromName(std::string_view name) {
    if (name == "all") return Type::All;
    if (name == "hard") return Type::Hard;
    if (name == "semihard") return Type::SemiHard;
    if (name == "easy") return Type::Easy;
    return std::nullopt;
}

TripletGapFilter TripletMarginMiner::filter() const {
    TripletGapFilter out;
    out.distance = m_distance;
    // The defaults are (−∞, +∞]: every finite gap passes; each type narrows one or both ends.
    switch (m_type) {
    case Type::All:
        out.high = m_margin;
        break;
    case Type::Hard:
        // PML: gap ≤ m and gap ≤ 0, i.e. gap ≤ min(m, 0).
        out.high = std::min(m_margin, Real(0));
        break;
    case Type::SemiHard:
        out.low = 0.0;
        out.includeLow = false;
        out.high = m_margin;
        break;
    case Type::Easy:
        out.low = m_margin;
        out.includeLow = false;
        break;
    }
    return out;
}

Tuples TripletMarginMiner::mine(const MinerInput& /*input*/) const {
    // Symbolic on purpose: the consumer evaluates the gap per triplet it already visits.
    Tuples out = Tuples::all();
    out.filter = filter();
    return out;
}

}  // namespace marginlab
