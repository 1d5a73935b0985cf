// The plots of measure-generator (metrics/generator_measure.h): histograms
// of decoded transformation parameters and the style-temperature sweep.
#pragma once
#include <nlohmann/json.hpp>
#include <vector>

#include "invkit/metrics/accuracy.h"
#include "invkit/metrics/generator_measure.h"
#include "invkit/report/svg_plot.h"

namespace invkit::report {

// One histogram per params column: the share of decoded values in each bin
// (10-degree bins for an angle, one per category, 30 bins over the pooled
// range for a value), true pairs ("true T", all classes) against generated
// pairs of the many-, medium- and few-shot classes ("generated, many", ...).
std::vector<ScatterPlot> decoded_histograms(const metrics::GeneratorMeasurement& m,
                                            const std::vector<metrics::ParamColumn>& columns,
                                            const metrics::HeldOut& data, metrics::ShotThresholds shots);

// The sweep as a plot: decoding distance of the first column against
// diversity, one point per temperature (labelled "t = 0.5" beside it), or
// fidelity against diversity when the sweep has fidelity. `json` is measure_generator's.
ScatterPlot temperature_plot(const nlohmann::json& json);

}  // namespace invkit::report
