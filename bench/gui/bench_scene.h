// SPDX-License-Identifier: MIT
// The seeded scene the GUI benchmarks paint and record: `points` points of a generator's data in
// `classes` classes, trained with `loss` at its PML defaults.
#pragma once

#include "marginlab/generators.h"
#include "marginlab/trainer.h"

namespace marginlab::bench {

inline TrainerConfig generatedScene(const char* generator, const char* loss, int points, int classes,
                                    int metricsEvery) {
    GeneratorConfig data{generator, {}};
    data.params.numbers["points"] = points;
    data.params.numbers["classes"] = classes;
    data.params.numbers["seed"] = 3;
    std::string error;
    const auto dataset = generate(data, &error);
    TrainerConfig config;
    config.points = dataset->points;
    config.labels = dataset->labels;
    config.numClasses = dataset->numClasses;
    config.loss.name = loss;
    config.metricsEvery = metricsEvery;
    return config;
}

}  // namespace marginlab::bench
