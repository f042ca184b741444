// SPDX-License-Identifier: MIT
#include "marginlab/generators.h"

#include "marginlab/random.h"

#include <Eigen/Geometry>

#include <algorithm>
#include <utility>
#include <cmath>
#include <numbers>
#include <sstream>

namespace marginlab {

namespace {

using std::numbers::pi;

// Sub-streams of the user's seed (see generators.h).
constexpr std::uint64_t kPositionStream = 0;
constexpr std::uint64_t kLabelNoiseStream = 1;
constexpr std::uint64_t kOrderStream = 2;

constexpr double kMaxSeed = 9007199254740991.0;  // 2⁵³ − 1: every integer below is exact in a double

ParamInfo pointsParam() {
    return {"points", ParamType::Integer, 200, 2, 100000, "Total number of points N", {}, 0};
}
ParamInfo classesParam(double defaultValue, double maxValue = 32) {
    return {"classes", ParamType::Integer, defaultValue, 2, maxValue, "Number of classes C", {}, 0};
}
ParamInfo noiseParam(double defaultValue, std::string description) {
    return {"noise", ParamType::Number, defaultValue, 0, 10, std::move(description), {}, 0};
}
ParamInfo seedParam() {
    return {"seed", ParamType::Integer, 1, 0, kMaxSeed, "Random seed: the same seed gives the same data set", {}, 0};
}
ParamInfo labelNoiseParam(double defaultValue) {
    return {"label_noise", ParamType::Number, defaultValue, 0, 1,
            "Fraction in [0, 1) of the labels flipped to another class (exactly round(fraction·N) points)", {}, 0};
}
ParamInfo spreadParam(double defaultValue, std::string description) {
    return {"spread", ParamType::Number, defaultValue, 0.01, 100, std::move(description), {}, 0};
}

/// Sizes of C classes summing to n that differ by at most one (the first n mod C get one more).
std::vector<int> balancedSizes(int n, int classes) {
    std::vector<int> sizes(static_cast<std::size_t>(classes), n / classes);
    for (int c = 0; c < n % classes; ++c) ++sizes[static_cast<std::size_t>(c)];
    return sizes;
}

/// Sizes proportional to ratio^c (largest remainder rounding), then raised to at least 2 each by
/// taking points from the largest class. Requires n ≥ 2·classes.
std::vector<int> geometricSizes(int n, int classes, double ratio) {
    std::vector<double> weights(static_cast<std::size_t>(classes));
    double total = 0;
    for (int c = 0; c < classes; ++c) total += weights[static_cast<std::size_t>(c)] = std::pow(ratio, c);
    std::vector<int> sizes(weights.size());
    std::vector<std::pair<double, int>> remainders;
    int assigned = 0;
    for (int c = 0; c < classes; ++c) {
        const double ideal = n * weights[static_cast<std::size_t>(c)] / total;
        sizes[static_cast<std::size_t>(c)] = static_cast<int>(std::floor(ideal));
        assigned += sizes[static_cast<std::size_t>(c)];
        remainders.emplace_back(ideal - std::floor(ideal), c);
    }
    // Largest fractional parts first, lower class first on ties: deterministic.
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (int k = 0; assigned < n; ++k, ++assigned) ++sizes[static_cast<std::size_t>(remainders[static_cast<std::size_t>(k)].second)];
    for (int c = 0; c < classes; ++c) {
        while (sizes[static_cast<std::size_t>(c)] < 2) {
            const auto largest = std::max_element(sizes.begin(), sizes.end());
            --*largest;
            ++sizes[static_cast<std::size_t>(c)];
        }
    }
    return sizes;
}

/// Appends rows class by class.
class Builder {
public:
    Builder(int n, int dimension, int classes) : m_points(n, dimension), m_labels(static_cast<std::size_t>(n)) {
        m_dataset.numClasses = classes;
    }
    void add(int label, double x, double y) {
        m_points(m_row, 0) = x;
        m_points(m_row, 1) = y;
        m_labels[static_cast<std::size_t>(m_row++)] = label;
    }
    void add(int label, const Eigen::Vector3d& p) {
        for (int k = 0; k < 3; ++k) m_points(m_row, k) = p(k);
        m_labels[static_cast<std::size_t>(m_row++)] = label;
    }
    Dataset finish() {
        m_dataset.points = std::move(m_points);
        m_dataset.labels = std::move(m_labels);
        return std::move(m_dataset);
    }

private:
    Dataset m_dataset;
    Points m_points;
    Labels m_labels;
    Eigen::Index m_row = 0;
};

int integerParam(const ParamValues& p, std::string_view name) { return static_cast<int>(p.number(name)); }

/**
 * C well-separated unit vectors: a Fibonacci lattice relaxed by a few hundred steps of Coulomb
 * repulsion (2 → antipodal, 4 → close to a tetrahedron, 6 → close to an octahedron). Plain
 * arithmetic in a fixed order, so it is deterministic.
 */
std::vector<Eigen::Vector3d> spreadDirections(int count) {
    std::vector<Eigen::Vector3d> p(static_cast<std::size_t>(count));
    const double golden = pi * (3.0 - std::sqrt(5.0));
    for (int i = 0; i < count; ++i) {
        const double z = 1.0 - (2.0 * i + 1.0) / count;
        const double r = std::sqrt(std::max(0.0, 1.0 - z * z));
        p[static_cast<std::size_t>(i)] = Eigen::Vector3d(r * std::cos(golden * i), r * std::sin(golden * i), z);
    }
    std::vector<Eigen::Vector3d> force(p.size());
    double step = 0.2;
    for (int iteration = 0; iteration < 400; ++iteration, step *= 0.99) {
        double largest = 0;
        for (std::size_t i = 0; i < p.size(); ++i) {
            force[i].setZero();
            for (std::size_t j = 0; j < p.size(); ++j) {
                if (i == j) continue;
                const Eigen::Vector3d d = p[i] - p[j];
                const double n2 = std::max(d.squaredNorm(), 1e-12);
                force[i] += d / (n2 * std::sqrt(n2));
            }
            force[i] -= force[i].dot(p[i]) * p[i];  // tangential part only
            largest = std::max(largest, force[i].norm());
        }
        if (largest <= 0) break;
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = (p[i] + step * force[i] / largest).normalized();
    }
    return p;
}

Dataset gaussianBlobs(const ParamValues& params, Rng& rng, const std::vector<int>& sizes) {
    const int classes = static_cast<int>(sizes.size());
    const double spread = params.number("spread"), noise = params.number("noise");
    Builder out(integerParam(params, "points"), 2, classes);
    for (int c = 0; c < classes; ++c) {
        const double angle = 2 * pi * c / classes;
        const double cx = spread * std::cos(angle), cy = spread * std::sin(angle);
        for (int k = 0; k < sizes[static_cast<std::size_t>(c)]; ++k) {
            const double x = rng.normal(cx, noise);
            const double y = rng.normal(cy, noise);
            out.add(c, x, y);
        }
    }
    return out.finish();
}

Dataset makeBlobs(const ParamValues& params, Rng& rng) {
    return gaussianBlobs(params, rng, balancedSizes(integerParam(params, "points"), integerParam(params, "classes")));
}

Dataset makeImbalancedBlobs(const ParamValues& params, Rng& rng) {
    return gaussianBlobs(params, rng,
                         geometricSizes(integerParam(params, "points"), integerParam(params, "classes"),
                                        params.number("ratio")));
}

Dataset makeRings(const ParamValues& params, Rng& rng) {
    const int n = integerParam(params, "points"), classes = integerParam(params, "classes");
    const double noise = params.number("noise");
    const auto sizes = balancedSizes(n, classes);
    Builder out(n, 2, classes);
    for (int c = 0; c < classes; ++c)
        for (int k = 0; k < sizes[static_cast<std::size_t>(c)]; ++k) {
            const double angle = rng.uniform(0, 2 * pi);
            const double radius = rng.normal(c + 1.0, noise);
            out.add(c, radius * std::cos(angle), radius * std::sin(angle));
        }
    return out.finish();
}

Dataset makeMoons(const ParamValues& params, Rng& rng) {
    const int n = integerParam(params, "points");
    const double noise = params.number("noise");
    const auto sizes = balancedSizes(n, 2);
    Builder out(n, 2, 2);
    // Upper moon: unit half circle around (0, 0); lower moon: the mirrored half circle around (1, 0.5).
    for (int k = 0; k < sizes[0]; ++k) {
        const double t = rng.uniform(0, pi);
        const double x = std::cos(t) + noise * rng.normal();
        const double y = std::sin(t) + noise * rng.normal();
        out.add(0, x, y);
    }
    for (int k = 0; k < sizes[1]; ++k) {
        const double t = rng.uniform(0, pi);
        const double x = 1.0 - std::cos(t) + noise * rng.normal();
        const double y = 0.5 - std::sin(t) + noise * rng.normal();
        out.add(1, x, y);
    }
    return out.finish();
}

Dataset makeSpirals(const ParamValues& params, Rng& rng) {
    const int n = integerParam(params, "points"), classes = integerParam(params, "classes");
    const double noise = params.number("noise"), turns = params.number("turns");
    const auto sizes = balancedSizes(n, classes);
    Builder out(n, 2, classes);
    for (int c = 0; c < classes; ++c)
        for (int k = 0; k < sizes[static_cast<std::size_t>(c)]; ++k) {
            const double t = rng.uniform();
            const double radius = 0.3 + 2.7 * t;  // start off the centre, where all arms would meet
            const double angle = 2 * pi * (static_cast<double>(c) / classes + turns * t);
            const double x = radius * std::cos(angle) + noise * rng.normal();
            const double y = radius * std::sin(angle) + noise * rng.normal();
            out.add(c, x, y);
        }
    return out.finish();
}

Dataset makeXor(const ParamValues& params, Rng& rng) {
    const int n = integerParam(params, "points");
    const double noise = params.number("noise"), spread = params.number("spread");
    const auto sizes = balancedSizes(n, 2);
    Builder out(n, 2, 2);
    // Class 0 in quadrants I and III (x·y > 0), class 1 in II and IV; alternate the two clusters.
    for (int c = 0; c < 2; ++c)
        for (int k = 0; k < sizes[static_cast<std::size_t>(c)]; ++k) {
            const double sx = k % 2 == 0 ? 1.0 : -1.0;
            const double sy = c == 0 ? sx : -sx;
            const double x = rng.normal(sx * spread, noise);
            const double y = rng.normal(sy * spread, noise);
            out.add(c, x, y);
        }
    return out.finish();
}

Dataset makeUniform(const ParamValues& params, Rng& rng) {
    const int n = integerParam(params, "points"), classes = integerParam(params, "classes");
    const double half = params.number("spread");
    const auto sizes = balancedSizes(n, classes);
    Builder out(n, 2, classes);
    for (int c = 0; c < classes; ++c)
        for (int k = 0; k < sizes[static_cast<std::size_t>(c)]; ++k) {
            const double x = rng.uniform(-half, half);
            const double y = rng.uniform(-half, half);
            out.add(c, x, y);
        }
    return out.finish();
}

Dataset makeSphereCaps(const ParamValues& params, Rng& rng) {
    const int n = integerParam(params, "points"), classes = integerParam(params, "classes");
    const double cosCap = std::cos(params.number("cap_angle") * pi / 180.0);
    const auto sizes = balancedSizes(n, classes);
    const auto directions = spreadDirections(classes);
    Builder out(n, 3, classes);
    for (int c = 0; c < classes; ++c) {
        const Eigen::Vector3d& d = directions[static_cast<std::size_t>(c)];
        const Eigen::Vector3d helper = std::abs(d.x()) < 0.9 ? Eigen::Vector3d::UnitX() : Eigen::Vector3d::UnitY();
        const Eigen::Vector3d u = (helper - helper.dot(d) * d).normalized();
        const Eigen::Vector3d v = d.cross(u);
        for (int k = 0; k < sizes[static_cast<std::size_t>(c)]; ++k) {
            // cos θ uniform in [cos α, 1] is uniform in area over the cap (Archimedes).
            const double cosTheta = 1.0 - rng.uniform() * (1.0 - cosCap);
            const double sinTheta = std::sqrt(std::max(0.0, 1.0 - cosTheta * cosTheta));
            const double phi = rng.uniform(0, 2 * pi);
            const Eigen::Vector3d p = sinTheta * std::cos(phi) * u + sinTheta * std::sin(phi) * v + cosTheta * d;
            out.add(c, p.normalized());
        }
    }
    return out.finish();
}

Dataset makeBlobs3d(const ParamValues& params, Rng& rng) {
    const int n = integerParam(params, "points"), classes = integerParam(params, "classes");
    const double spread = params.number("spread"), noise = params.number("noise");
    const auto sizes = balancedSizes(n, classes);
    const auto directions = spreadDirections(classes);
    Builder out(n, 3, classes);
    for (int c = 0; c < classes; ++c) {
        const Eigen::Vector3d centre = spread * directions[static_cast<std::size_t>(c)];
        for (int k = 0; k < sizes[static_cast<std::size_t>(c)]; ++k) {
            Eigen::Vector3d p;
            for (int a = 0; a < 3; ++a) p(a) = rng.normal(centre(a), noise);
            out.add(c, p);
        }
    }
    return out.finish();
}

Dataset makeSphereRings(const ParamValues& params, Rng& rng) {
    // The 3D form of concentric rings: circles of latitude. Class c lies at polar angle
    // θ_c = π(c + 1)/(C + 1) from the +y pole (so the classes share no pole), longitude uniform.
    const int n = integerParam(params, "points"), classes = integerParam(params, "classes");
    const double noise = params.number("noise");
    const auto sizes = balancedSizes(n, classes);
    Builder out(n, 3, classes);
    for (int c = 0; c < classes; ++c)
        for (int k = 0; k < sizes[static_cast<std::size_t>(c)]; ++k) {
            const double longitude = rng.uniform(0, 2 * pi);
            const double polar = rng.normal(pi * (c + 1.0) / (classes + 1.0), noise);
            out.add(c, Eigen::Vector3d(std::sin(polar) * std::cos(longitude), std::cos(polar),
                                       std::sin(polar) * std::sin(longitude)));
        }
    return out.finish();
}

Dataset makeUniformSphere(const ParamValues& params, Rng& rng) {
    // A normalized isotropic Gaussian is uniform on the sphere; labels carry no information.
    const int n = integerParam(params, "points"), classes = integerParam(params, "classes");
    const auto sizes = balancedSizes(n, classes);
    Builder out(n, 3, classes);
    for (int c = 0; c < classes; ++c)
        for (int k = 0; k < sizes[static_cast<std::size_t>(c)]; ++k) {
            Eigen::Vector3d p;
            do {
                for (int a = 0; a < 3; ++a) p(a) = rng.normal();
            } while (p.squaredNorm() < 1e-24);
            out.add(c, p.normalized());
        }
    return out.finish();
}

/**
 * Classes that are really multimodal: M·C Gaussian blobs with centres evenly spaced on a circle
 * of radius `spread`; blob k belongs to class k mod C, so the M blobs of a class sit 360°/M apart
 * with the other classes' blobs between them. One centre per class (softmax, a class weight, a
 * centroid) cannot fit such a class; K ≥ M centres per class (SoftTriple, sub-centres) can.
 */
Dataset makeMultimodalBlobs(const ParamValues& params, Rng& rng) {
    const int n = integerParam(params, "points"), classes = integerParam(params, "classes");
    const int modes = integerParam(params, "modes");
    const double spread = params.number("spread"), noise = params.number("noise");
    const auto sizes = balancedSizes(n, classes);
    const int blobs = modes * classes;
    Builder out(n, 2, classes);
    for (int c = 0; c < classes; ++c) {
        const auto perMode = balancedSizes(sizes[static_cast<std::size_t>(c)], modes);
        for (int m = 0; m < modes; ++m) {
            const double angle = 2 * pi * (m * classes + c) / blobs;
            const double cx = spread * std::cos(angle), cy = spread * std::sin(angle);
            for (int k = 0; k < perMode[static_cast<std::size_t>(m)]; ++k) {
                const double x = rng.normal(cx, noise);
                const double y = rng.normal(cy, noise);
                out.add(c, x, y);
            }
        }
    }
    return out.finish();
}

/// The 3D form: M·C well-separated directions times `spread`, direction k for class k mod C.
Dataset makeMultimodalBlobs3d(const ParamValues& params, Rng& rng) {
    const int n = integerParam(params, "points"), classes = integerParam(params, "classes");
    const int modes = integerParam(params, "modes");
    const double spread = params.number("spread"), noise = params.number("noise");
    const auto sizes = balancedSizes(n, classes);
    const auto directions = spreadDirections(modes * classes);
    Builder out(n, 3, classes);
    for (int c = 0; c < classes; ++c) {
        const auto perMode = balancedSizes(sizes[static_cast<std::size_t>(c)], modes);
        for (int m = 0; m < modes; ++m) {
            const Eigen::Vector3d centre = spread * directions[static_cast<std::size_t>(m * classes + c)];
            for (int k = 0; k < perMode[static_cast<std::size_t>(m)]; ++k) {
                Eigen::Vector3d p;
                for (int a = 0; a < 3; ++a) p(a) = rng.normal(centre(a), noise);
                out.add(c, p);
            }
        }
    }
    return out.finish();
}

using MakeFunction = Dataset (*)(const ParamValues&, Rng&);

struct Entry {
    GeneratorInfo info;
    MakeFunction make;
};

const std::vector<Entry>& entries() {
    static const std::vector<Entry> all = [] {
        const ParamInfo ratio{"ratio", ParamType::Number, 0.5, 0.01, 1,
                              "Size ratio between consecutive classes (class c has about ratio^c of class 0)", {}, 0};
        const ParamInfo turns{"turns", ParamType::Number, 1.0, 0.1, 5, "Turns of each arm", {}, 0};
        const ParamInfo capAngle{"cap_angle", ParamType::Number, 25, 0, 90,
                                 "Angular radius of each cap, in degrees", {}, 0};
        const std::string blobNoise = "Standard deviation of each Gaussian blob";
        std::vector<Entry> list;
        list.push_back({{"blobs", "Gaussian blobs",
                         "C isotropic Gaussian blobs with centres evenly spaced on a circle of radius `spread`.", 2,
                         {pointsParam(), classesParam(3), noiseParam(0.5, blobNoise),
                          spreadParam(3, "Radius of the circle of blob centres"), seedParam(), labelNoiseParam(0)}},
                        makeBlobs});
        list.push_back({{"rings", "Concentric rings",
                         "One ring per class, class c at radius c + 1, with Gaussian radial jitter.", 2,
                         {pointsParam(), classesParam(3, 20), noiseParam(0.1, "Standard deviation of the radius"),
                          seedParam(), labelNoiseParam(0)}},
                        makeRings});
        list.push_back({{"moons", "Two moons",
                         "Two interleaving half circles of radius 1 (upper around (0, 0), lower around (1, 0.5)).", 2,
                         {pointsParam(), noiseParam(0.1, "Standard deviation of the Gaussian jitter"), seedParam(),
                          labelNoiseParam(0)}},
                        makeMoons});
        list.push_back({{"spirals", "Spirals",
                         "C interleaved spiral arms from radius 0.3 to 3, rotated by 360°/C from each other.", 2,
                         {pointsParam(), classesParam(3), noiseParam(0.1, "Standard deviation of the Gaussian jitter"),
                          turns, seedParam(), labelNoiseParam(0)}},
                        makeSpirals});
        list.push_back({{"xor", "XOR quadrants",
                         "Four Gaussian clusters at (±spread, ±spread); class 0 in quadrants I and III, class 1 in II "
                         "and IV.",
                         2,
                         {pointsParam(), noiseParam(0.35, "Standard deviation of each cluster"),
                          spreadParam(1, "Distance of the cluster centres from each axis"), seedParam(),
                          labelNoiseParam(0)}},
                        makeXor});
        list.push_back({{"uniform", "Uniform noise",
                         "Points uniform in the square [−spread, spread]², labels independent of position (nothing "
                         "to learn from the layout).",
                         2,
                         {pointsParam(), classesParam(3), spreadParam(2, "Half side of the square"), seedParam(),
                          labelNoiseParam(0)}},
                        makeUniform});
        list.push_back({{"imbalanced_blobs", "Imbalanced blobs",
                         "Gaussian blobs whose class sizes decay geometrically by `ratio` (each class at least 2 "
                         "points).",
                         2,
                         {pointsParam(), classesParam(4), noiseParam(0.5, blobNoise),
                          spreadParam(3, "Radius of the circle of blob centres"), ratio, seedParam(),
                          labelNoiseParam(0)}},
                        makeImbalancedBlobs});
        list.push_back({{"noisy_blobs", "Blobs with noisy labels",
                         "Gaussian blobs where a fraction `label_noise` (default 20%) of the labels is flipped to "
                         "another class.",
                         2,
                         {pointsParam(), classesParam(3), noiseParam(0.5, blobNoise),
                          spreadParam(3, "Radius of the circle of blob centres"), seedParam(), labelNoiseParam(0.2)}},
                        makeBlobs});
        list.push_back({{"sphere_caps", "Sphere caps (3D)",
                         "Points on the unit sphere, uniform over C caps of angular radius `cap_angle` around "
                         "well-separated directions.",
                         3, {pointsParam(), classesParam(4), capAngle, seedParam(), labelNoiseParam(0)}},
                        makeSphereCaps});
        list.push_back({{"blobs3d", "Gaussian blobs (3D)",
                         "C isotropic 3D Gaussian blobs centred at well-separated directions times `spread`.", 3,
                         {pointsParam(), classesParam(4), noiseParam(0.5, blobNoise),
                          spreadParam(3, "Distance of the blob centres from the origin"), seedParam(),
                          labelNoiseParam(0)}},
                        makeBlobs3d});
        // 3D forms of the planar generators above (appended, so the earlier entries are unchanged).
        list.push_back(
            {{"sphere_rings",
              "Rings on the sphere (3D)",
              "One circle of latitude per class on the unit sphere, class c at polar angle π(c+1)/(C+1) "
              "from +y, with Gaussian jitter of the polar angle (radians).",
              3,
              {pointsParam(), classesParam(3, 20), noiseParam(0.05, "Standard deviation of the polar angle"),
               seedParam(), labelNoiseParam(0)}},
             makeSphereRings});
        list.push_back(
            {{"uniform_sphere",
              "Uniform on the sphere (3D)",
              "Points uniform on the unit sphere, labels independent of position (the most uniform "
              "embedding, nothing to learn from the layout).",
              3,
              {pointsParam(), classesParam(3), seedParam(), labelNoiseParam(0)}},
             makeUniformSphere});
        list.push_back(
            {{"noisy_blobs3d",
              "3D blobs with noisy labels",
              "3D Gaussian blobs where a fraction `label_noise` (default 20%) of the labels is flipped "
              "to another class.",
              3,
              {pointsParam(), classesParam(4), noiseParam(0.5, blobNoise),
               spreadParam(3, "Distance of the blob centres from the origin"), seedParam(),
               labelNoiseParam(0.2)}},
             makeBlobs3d});
        const ParamInfo modes{"modes", ParamType::Integer, 2, 1, 8,
                              "Blobs per class M (the class's modes, 360°/M apart)", {}, 0};
        list.push_back({{"multimodal_blobs", "Two blobs per class",
                         "M·C Gaussian blobs on a circle of radius `spread`, blob k of class k mod C: each class "
                         "has M separate modes (default 2) with other classes between them.",
                         2,
                         {pointsParam(), classesParam(3, 16), modes, noiseParam(0.3, blobNoise),
                          spreadParam(3, "Radius of the circle of blob centres"), seedParam(), labelNoiseParam(0)}},
                        makeMultimodalBlobs});
        list.push_back({{"multimodal_blobs3d", "Two blobs per class (3D)",
                         "M·C 3D Gaussian blobs centred at well-separated directions times `spread`, blob k of "
                         "class k mod C: each class has M separate modes (default 2).",
                         3,
                         {pointsParam(), classesParam(3, 16), modes, noiseParam(0.3, blobNoise),
                          spreadParam(3, "Distance of the blob centres from the origin"), seedParam(),
                          labelNoiseParam(0)}},
                        makeMultimodalBlobs3d});
        return list;
    }();
    return all;
}

const Entry* findEntry(std::string_view name) {
    for (const Entry& e : entries())
        if (e.info.name == name) return &e;
    return nullptr;
}

/// Flips exactly `count` labels, at distinct positions, each to a uniformly chosen other class.
void flipLabels(Labels& labels, int classes, std::size_t count, Rng& rng) {
    std::vector<std::size_t> order(labels.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    rng.shuffle(order);
    const auto others = static_cast<std::uint64_t>(classes - 1);
    for (std::size_t k = 0; k < count; ++k) {
        int& label = labels[order[k]];
        label = static_cast<int>((static_cast<std::uint64_t>(label) + 1 + rng.uniformInt(others)) %
                                 static_cast<std::uint64_t>(classes));
    }
}

void shuffleRows(Dataset& data, Rng& rng) {
    std::vector<Eigen::Index> order(static_cast<std::size_t>(data.points.rows()));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<Eigen::Index>(i);
    rng.shuffle(order);
    Points points(data.points.rows(), data.points.cols());
    Labels labels(data.labels.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        points.row(static_cast<Eigen::Index>(i)) = data.points.row(order[i]);
        labels[i] = data.labels[static_cast<std::size_t>(order[i])];
    }
    data.points = std::move(points);
    data.labels = std::move(labels);
}

}  // namespace

const std::vector<GeneratorInfo>& generatorCatalog() {
    static const std::vector<GeneratorInfo> catalog = [] {
        std::vector<GeneratorInfo> infos;
        for (const Entry& e : entries()) infos.push_back(e.info);
        return infos;
    }();
    return catalog;
}

const GeneratorInfo* counterpartGenerator(std::string_view name) {
    static constexpr std::pair<std::string_view, std::string_view> kPairs[] = {
        {"blobs", "blobs3d"},           {"blobs3d", "blobs"},           {"rings", "sphere_rings"},
        {"sphere_rings", "rings"},      {"uniform", "uniform_sphere"},  {"uniform_sphere", "uniform"},
        {"noisy_blobs", "noisy_blobs3d"}, {"noisy_blobs3d", "noisy_blobs"}, {"imbalanced_blobs", "blobs3d"},
        {"sphere_caps", "blobs"},
        {"multimodal_blobs", "multimodal_blobs3d"}, {"multimodal_blobs3d", "multimodal_blobs"}};
    for (const auto& [from, to] : kPairs)
        if (from == name) return findGenerator(to);
    return nullptr;
}

const GeneratorInfo* findGenerator(std::string_view name) {
    for (const GeneratorInfo& info : generatorCatalog())
        if (info.name == name) return &info;
    return nullptr;
}

std::optional<Dataset> generate(const GeneratorConfig& config, std::string* error) {
    const Entry* entry = findEntry(config.name);
    if (!entry) {
        if (error) *error = "unknown data generator '" + config.name + "'";
        return std::nullopt;
    }
    const std::string owner = "generator " + entry->info.name;
    const auto params = completeParams(entry->info.params, config.params, owner, error);
    if (!params) return std::nullopt;
    const int n = integerParam(*params, "points");
    const int classes = params->numbers.count("classes") ? integerParam(*params, "classes") : 2;
    if (n < 2 * classes) {
        if (error) {
            std::ostringstream message;
            message << owner << ": parameter 'points' = " << n << " is too small for " << classes
                    << " classes (at least 2 points per class, so at least " << 2 * classes << ")";
            *error = message.str();
        }
        return std::nullopt;
    }
    const double labelNoise = params->number("label_noise");
    if (labelNoise >= 1.0) {
        if (error) *error = owner + ": parameter 'label_noise' must be below 1 (a fraction of the points)";
        return std::nullopt;
    }
    const auto seed = static_cast<std::uint64_t>(params->number("seed"));

    Rng positions(Rng::deriveSeed(seed, kPositionStream));
    Dataset data = entry->make(*params, positions);
    const auto flips = static_cast<std::size_t>(std::llround(labelNoise * n));
    if (flips > 0) {
        Rng noise(Rng::deriveSeed(seed, kLabelNoiseStream));
        flipLabels(data.labels, data.numClasses, flips, noise);
    }
    Rng order(Rng::deriveSeed(seed, kOrderStream));
    shuffleRows(data, order);
    return data;
}

}  // namespace marginlab
