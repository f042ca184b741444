// SPDX-License-Identifier: MIT
/**
 * The loss interface: one class per loss, one file per loss, the formula in its header.
 *
 * evaluate() is fused: it returns the value, the gradient with respect to the embeddings
 * (N×D) and, for losses that own parameters, with respect to the owned matrix, plus the
 * statistics the views show. The owned matrix stacks `ownedBlocks` blocks of C rows each
 * (C = number of classes): block 0 rows are class weights W_c (softmax family), proxies p_c
 * (proxy losses) or centers; the center loss owns [W; centers] (2C rows).
 *
 * Conventions (../docs/losses.md, loss-conventions.md): PML names, defaults and reductions;
 * "no valid tuple" gives value 0 and all-zero gradients.
 */
#pragma once

#include "marginlab/distance.h"
#include "marginlab/loss_pictures.h"
#include "marginlab/params.h"
#include "marginlab/tuples.h"
#include "marginlab/types.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace marginlab {

struct LossStats {
    std::string tupleKind = "samples";  ///< what `tuples` counts: "triplets", "pairs", "anchors", "samples"
    Count tuples = 0;                   ///< tuples the loss looked at
    Count active = 0;                   ///< tuples with a non-zero loss term
    bool hasRegions = false;            ///< easy / semi-hard / hard are meaningful (a margin exists)
    Count easy = 0;                     ///< δ_an − δ_ap > margin (PML's "easy")
    Count semiHard = 0;                 ///< 0 < δ_an − δ_ap ≤ margin
    Count hard = 0;                     ///< δ_an − δ_ap ≤ 0
};

struct LossInput {
    const Points& embeddings;             ///< N×D
    const Labels& labels;                 ///< N
    const Points* owned = nullptr;        ///< (ownedBlocks·C)×D, nullptr if the loss owns none
    const Tuples* tuples = nullptr;       ///< mined tuples; nullptr = every valid tuple
    std::uint64_t sampleSeed = 0;         ///< for losses that sample (NCE): same seed, same samples
    /// Also return LossOutput::gradFromPositives (with a gradient only). Costs one more backward
    /// pass; the value and every other output are bit-identical either way.
    bool splitForces = false;
    /**
     * PML's ref_emb / ref_labels (CrossBatchMemory's queue): M×D rows and M labels. When set, every
     * tuple's anchor indexes the batch (`embeddings`) and its positive and negative index these
     * rows; `tuples` == nullptr means every (anchor, reference) pair, with no self pair removed (a
     * reference is never "the same sample"). No gradient flows to the reference: it is a detached
     * copy. Only losses whose LossInfo::acceptsReference is set read it (makeLoss callers check).
     */
    const Points* referenceEmbeddings = nullptr;
    const Labels* referenceLabels = nullptr;  ///< M, set together with referenceEmbeddings

    bool hasReference() const { return referenceEmbeddings != nullptr; }
};

struct LossOutput {
    Real value = 0.0;
    Points gradEmbeddings;  ///< N×D, set when a gradient was asked for
    Points gradOwned;       ///< same shape as LossInput::owned (empty if none)
    /**
     * N×D, set when a gradient and LossInput::splitForces were asked for: the part of
     * gradEmbeddings that flows, by the chain rule, through the same-class terms (pairs of two
     * same-label points; for per-class rows, the row of the point's own class). The rest,
     * gradEmbeddings − gradFromPositives, flows through the other-class terms. Each loss header
     * says what its same-class terms are.
     */
    Points gradFromPositives;
    LossStats stats;
    /// multiple_losses only: the weighted value w_i·L_i of each component, in order (they add up
    /// to `value`); empty for every other loss.
    std::vector<Real> components;
};

/**
 * How a softmax-family loss makes its logits, for the views. For a sample x the logit of class c
 * is  ℓ_c = scale · (‖x‖ if normScaled) · (‖w_c‖ if weightNorms) · u_c,  where u_c = c_c = x̂·ŵ_c
 * for the other classes and u_y = φ(c_y) for the sample's own class y; φ = identity is no margin.
 * A sample of class y is classified with the margin when its target logit beats every other
 * logit; the views shade where that fails for the winning class, and plot φ against θ.
 */
struct MarginLogits {
    std::function<Real(Real cosine)> target;  ///< φ(c), in the units of the other classes' c
    bool hasMargin = true;                    ///< false when φ is the identity
    Real scale = 1.0;                         ///< s (or 1/temperature)
    bool normScaled = false;                  ///< logits also scale with ‖x‖ (SphereFace, L-Softmax, softmax)
    bool weightNorms = false;                 ///< logits also scale with ‖w_c‖ (L-Softmax, softmax)
};

class Loss {
public:
    virtual ~Loss() = default;
    virtual std::string_view name() const = 0;
    /// The value, gradients (when `withGradient`) and statistics for one batch.
    virtual LossOutput evaluate(const LossInput& input, bool withGradient) const = 0;
    /// Softmax-family losses: how their logits are made (see MarginLogits); empty for the others.
    virtual std::optional<MarginLogits> marginLogits() const { return std::nullopt; }
};

enum class LossFamily { PairBased, TripletBased, Contrastive, Classification, Proxy, Other };

/// What the class regions of the views mean for a loss (the catalogue says, the views ask).
enum class ClassRegions {
    NearestCentroid,  ///< tuple losses: the nearest class centroid (mean direction when normalized)
    ClassWeights,     ///< softmax family: the class whose weight wins the logits (argmax), margin band
    NearestProxy,     ///< proxy and center losses: the nearest proxy / class weight direction
};

/// What the rows of a loss's owned matrix are, for the views (the catalogue says, the views ask).
enum class OwnedLayout {
    ClassRows,        ///< block 0: one row per class (class weights, proxies); the center loss's
                      ///< block 1: its class centers
    CentersPerClass,  ///< every block holds one center per class: row k·C + c is center k of class c
                      ///< (SoftTriple's centers, Sub-center ArcFace's sub-centers); a point's class
                      ///< is scored through its nearest (or softly nearest) center
    ClassScalars,     ///< column 0 of row c is one number per class (MarginLoss's learned β)
};

/**
 * A loss that draws a boundary at distance `boundary` between positive and negative pairs, with a
 * band of half-width `margin` around it (MarginLoss: positives pulled inside β − margin,
 * negatives pushed beyond β + margin). The views draw it around the chosen anchor.
 */
struct DistanceBand {
    Real boundary = 0.0;           ///< β, in the loss's distance
    Real margin = 0.0;             ///< half-width of the band
    bool boundaryPerClass = false;  ///< β of class c is column 0 of owned row c (learned β)
};

/// A named parameter set where the paper defaults fail in two dimensions, with the reason.
struct LossPreset {
    std::string name;    ///< e.g. "2D (up to 13 classes)"
    ParamValues params;  ///< the parameters it sets (the others keep their defaults)
    std::string why;     ///< one or two sentences: what goes wrong in 2D and what the preset changes
};

struct LossComponent;

/// A loss by name with its parameters and distance. Constructors rather than an aggregate: the
/// components are of a type not yet complete here, which some compilers refuse in a default
/// member initializer (and GCC warns about aggregates initialized without them).
struct LossConfig {
    LossConfig() = default;
    LossConfig(std::string lossName);
    LossConfig(std::string lossName, ParamValues lossParams, std::optional<DistanceSpec> lossDistance);
    LossConfig(std::string lossName, ParamValues lossParams, std::optional<DistanceSpec> lossDistance,
               std::vector<LossComponent> lossComponents);

    std::string name;
    ParamValues params;
    std::optional<DistanceSpec> distance;  ///< empty: the loss's default
    /// multiple_losses only: its weighted components (2 to kMaxLossComponents, none of them a
    /// multiple_losses itself); empty: the catalogue's LossInfo::defaultComponents. Must be empty
    /// for every other loss.
    std::vector<LossComponent> components;
};

/// One weighted term of multiple_losses: PML's losses[i] with weights[i].
struct LossComponent {
    LossConfig loss;
    Real weight = 1.0;
};

inline LossConfig::LossConfig(std::string lossName) : name(std::move(lossName)) {}
inline LossConfig::LossConfig(std::string lossName, ParamValues lossParams, std::optional<DistanceSpec> lossDistance)
    : name(std::move(lossName)), params(std::move(lossParams)), distance(std::move(lossDistance)) {}
inline LossConfig::LossConfig(std::string lossName, ParamValues lossParams, std::optional<DistanceSpec> lossDistance,
                              std::vector<LossComponent> lossComponents)
    : name(std::move(lossName)),
      params(std::move(lossParams)),
      distance(std::move(lossDistance)),
      components(std::move(lossComponents)) {}

inline constexpr int kMinLossComponents = 2;
inline constexpr int kMaxLossComponents = 4;

/// What the catalogue knows about a loss, for the CLI, the controls and the docs.
struct LossInfo {
    std::string name;         ///< identifier used in files and on the command line, e.g. "triplet_margin"
    std::string displayName;  ///< e.g. "Triplet margin"
    LossFamily family = LossFamily::Other;
    std::string pmlName;      ///< PML class, e.g. "TripletMarginLoss"; empty if PML does not have it
    std::string formula;      ///< one-line plain-text formula
    std::vector<ParamInfo> params;
    DistanceSpec defaultDistance;
    bool distanceConfigurable = false;
    int ownedBlocks = 0;      ///< blocks of C rows in the owned matrix (0: none)
    bool acceptsMiner = false;
    /// Takes a reference set (LossInput::referenceEmbeddings, PML's ref_emb): what
    /// CrossBatchMemory needs. PML's CrossBatchMemory.supported_losses() that the catalogue has.
    bool acceptsReference = false;
    ClassRegions regions = ClassRegions::NearestCentroid;
    /// The parameter that is the gap between δ_an and δ_ap of a triplet (its easy / semi-hard /
    /// hard regions); empty when the loss has no such margin (the regions then use gap 0).
    std::string tripletMarginParam;
    std::vector<LossPreset> presets;  ///< 2D presets (the defaults themselves are not listed)
    OwnedLayout ownedLayout = OwnedLayout::ClassRows;
    /// The loss's positive / negative boundary for the given (complete) parameters, if it has one.
    std::function<std::optional<DistanceBand>(const ParamValues& params)> distanceBand;
    /// The loss's own picture (ranked list, pair histograms, soft neighbours, SNR pair) for the
    /// given (complete) parameters and the distance in use; empty: none.
    std::function<LossPicture(const ParamValues& params, const DistanceSpec& distance)> picture;
    /**
     * Where PML starts an owned parameter from a constant rather than a random draw (MarginLoss's
     * learned β = `beta` for every class), this writes those initial values over the trainer's
     * seeded N(0,1) owned matrix ((ownedBlocks·C)×D; params complete with defaults). Empty: the
     * seeded rows are the initial values (class weights, proxies, centers, sub-centers). A
     * TrainerConfig::owned or a saved start replaces both.
     */
    std::function<void(const ParamValues& params, Points& owned)> initialOwned;
    std::function<std::unique_ptr<Loss>(const ParamValues& params, const DistanceSpec& distance)> create;
    /**
     * Non-empty for a wrapper of other losses (multiple_losses): the components a configuration
     * without LossConfig::components gets, as a missing parameter gets its default. A wrapper has
     * no parameters and no distance of its own, and `create` is empty: makeLoss builds the
     * components. `ownedBlocks` and `acceptsMiner` describe these defaults; for a configuration
     * ask ownedBlocksOf() and acceptsMinerOf().
     */
    std::vector<LossComponent> defaultComponents;
    bool isWrapper() const { return !defaultComponents.empty(); }
};

/// Every loss, grouped by family in catalogue order.
const std::vector<LossInfo>& lossCatalog();
const LossInfo* findLoss(std::string_view name);
/// Builds a loss from a configuration; nullptr and a message on unknown names or bad parameters
/// (for multiple_losses also: a component count outside 2..4, a nested multiple_losses, a bad
/// weight, or a bad component, named by its position).
std::unique_ptr<Loss> makeLoss(const LossConfig& config, std::string* error);
/// The display names of the losses that take a reference set (for messages), e.g. "contrastive, ntxent".
std::string lossesAcceptingReference();

/// The components of a wrapper configuration (its own, or the catalogue's defaults when it has
/// none); empty for any other loss or an unknown name.
std::vector<LossComponent> componentsOf(const LossConfig& config);
/// Blocks of C rows in the owned matrix of this configuration: the catalogue's ownedBlocks, or
/// for multiple_losses the sum over its components (their blocks stacked in component order).
/// 0 for an unknown name.
int ownedBlocksOf(const LossConfig& config);
/// Whether this configuration uses the trainer's miner (multiple_losses: any component does).
bool acceptsMinerOf(const LossConfig& config);
/// Writes the loss's own initial values (LossInfo::initialOwned) over a seeded owned matrix of
/// ownedBlocksOf(config)·C rows; for multiple_losses each component writes its own rows.
/// Parameters that do not validate leave the matrix as it is.
void writeInitialOwned(const LossConfig& config, Points& owned);
/// The distance the loss sees (its configured one, else its default); for multiple_losses that
/// of its first component, which the metrics and the views use. Unknown names: the default spec.
DistanceSpec lossDistanceOf(const LossConfig& config);

std::string_view familyName(LossFamily family);

/// A class of pytorch-metric-learning that the catalogue does not offer, and why.
struct OmittedPmlClass {
    std::string pmlName;
    std::string reason;
};
/// PML's losses and wrappers that are not in the catalogue, with the reason (docs/losses.md lists them).
const std::vector<OmittedPmlClass>& omittedPmlClasses();

}  // namespace marginlab
