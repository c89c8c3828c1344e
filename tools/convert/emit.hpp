// tools/convert/emit.hpp - writes the lowered graph as the converter's output model.
#pragma once

#include "convert/graph.hpp"
#include "convert/model_writer.hpp"

namespace facekit {
namespace convert {

/// The live nodes of `g` as an OutModel (no metadata yet, see model_info.hpp). Weights are packed
/// for their kernels; a node that no pass could lower (a RELU6 left unfused) is an error.
Expected<OutModel> emit_model(const LoweringGraph& g);

}  // namespace convert
}  // namespace facekit
