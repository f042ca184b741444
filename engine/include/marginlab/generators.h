// SPDX-License-Identifier: MIT
/**
 * Synthetic data sets, in a catalogue like the loss catalogue.
 *
 * Common parameters (where they apply):
 *   points       total N (integer, default 200, 2..100000)
 *   classes      number of classes C (integer; fixed to 2 for moons and xor)
 *   noise        Gaussian standard deviation of the jitter (generator-specific default)
 *   seed         integer, default 1
 *   label_noise  fraction f ∈ [0, 1): exactly round(f·N) points, chosen by the seeded RNG, get a
 *                label drawn uniformly among the other classes (default 0; 0.2 for noisy_blobs)
 *
 * Class sizes differ by at most one (except imbalanced_blobs); N ≥ 2·C is required so that every
 * class has a positive pair. The rows are returned in a seeded random order. The same config
 * gives a bit-identical data set (the RNG is marginlab::Rng; positions, label noise and the row
 * order use independent sub-streams of `seed`, so changing label_noise only changes labels).
 */
#pragma once

#include "marginlab/dataset.h"
#include "marginlab/params.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace marginlab {

struct GeneratorInfo {
    std::string name;         ///< identifier, e.g. "blobs"
    std::string displayName;  ///< e.g. "Gaussian blobs"
    std::string description;  ///< one or two sentences for tooltips and docs
    int dimension = 2;        ///< D of the generated points
    std::vector<ParamInfo> params;
};

const std::vector<GeneratorInfo>& generatorCatalog();
const GeneratorInfo* findGenerator(std::string_view name);
/// The generator that makes the same kind of data in the other dimension (blobs ↔ blobs3d,
/// rings ↔ sphere_rings, uniform ↔ uniform_sphere, noisy_blobs ↔ noisy_blobs3d,
/// multimodal_blobs ↔ multimodal_blobs3d; imbalanced blobs
/// → blobs3d, sphere caps → blobs), or nullptr when the data has no natural form there (moons,
/// spirals, xor).
const GeneratorInfo* counterpartGenerator(std::string_view name);

struct GeneratorConfig {
    std::string name;
    ParamValues params;  ///< missing entries take the catalogue defaults
};

/// The data set, or nullopt with a message in *error (unknown generator, bad parameters).
std::optional<Dataset> generate(const GeneratorConfig& config, std::string* error);

}  // namespace marginlab
