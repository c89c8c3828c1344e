// facekit/ops/transform_tensor_bilinear.hpp - MediaPipe's TransformTensorBilinear: the
// Attention Mesh's crop of a feature map by a 4x4 matrix (docs/pipeline.md 4).
#pragma once

#include "../kernels/f32_transform_tensor_bilinear.hpp"
#include "op_common.hpp"

namespace facekit {
namespace ops {

template <>
struct OpDef<OpType::transform_tensor_bilinear> : OpDefDefaults {
  struct Args {
    kernels::BilinearGeometry g;
    bool pixel_centers;
  };

  static Status validate(const Model& m, const OpInfo& op, Args* a) {
    FACEKIT_RETURN_IF_ERROR(require_counts(op, 2, 2, 1));
    FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.inputs[0], "input"));
    FACEKIT_RETURN_IF_ERROR(require_nhwc(m, op, op.outputs[0], "output"));
    FACEKIT_RETURN_IF_ERROR(require_matrix16(m, op, op.inputs[1], "matrix"));
    const TensorInfo &xt = m.tensor(op.inputs[0]), &yt = m.tensor(op.outputs[0]);
    if (xt.dims[3] != yt.dims[3])
      return FACEKIT_OP_ERROR(op, "input '%s' has %d channels, output '%s' %d", xt.name, xt.dims[3], yt.name,
                              yt.dims[3]);
    const auto p = params_of<OpType::transform_tensor_bilinear>(op);
    if (p.pixel_centers != 0 && p.pixel_centers != 1)
      return FACEKIT_OP_ERROR(op, "pixel_centers is %d, expected 0 or 1", p.pixel_centers);
    *a = Args{{xt.dims[1], xt.dims[2], xt.dims[3], yt.dims[1], yt.dims[2]}, p.pixel_centers != 0};
    return Status::ok();
  }

  /// Four taps per output element.
  static double flops(const Args& a) { return 8.0 * a.g.out_h * a.g.out_w * a.g.channels; }

  template <class Arch>
  static void run(const CpuStep& s) {
    const Args& a = s.args_as<Args>();
    kernels::f32_transform_tensor_bilinear<Arch>(a.g, s.in[0], s.in[1], a.pixel_centers, s.out);
  }
};

}  // namespace ops
}  // namespace facekit
