// facekit/stages/mesh_models.hpp - the mesh models a FaceLandmarker can run, and the factory that
// builds the mesh stage of one.
//
//   const facekit::MeshModelEntry* e = facekit::find_mesh_model(options.landmark_model);
//   auto mesh = facekit::create_mesh_stage(options.landmark_model, model);  // checks the kind
//
// To add a mesh model: write its stage (a MeshStage with a static constexpr MeshModelInfo kInfo,
// as face_mesh_v2_stage.hpp), include it here and give it one line in FACEKIT_FACE_MESH_MODELS.
// The line names the FaceMeshModel enumerator that selects it and its stage class.
#pragma once

#include <memory>
#include <string>

#include "../model/model.hpp"
#include "../status.hpp"
#include "attention_mesh_stage.hpp"
#include "face_mesh_v2_stage.hpp"
#include "mesh_stage.hpp"

/// X(enumerator, stage class), one line per mesh model, in FaceMeshModel's order.
#define FACEKIT_FACE_MESH_MODELS(X) \
  X(v2, FaceMeshV2Stage)            \
  X(attention, AttentionMeshStage)

namespace facekit {

/// Which landmark model a FaceLandmarker runs, with its graph's detector settings, ROI rule and
/// tracking: one enumerator per line of FACEKIT_FACE_MESH_MODELS, in that order (`v2`, Face Mesh
/// V2 of MediaPipe Tasks, first and the default). Each stage's file describes its model.
enum class FaceMeshModel {
#define FACEKIT_MESH_ENUMERATOR(name, Stage) name,
  FACEKIT_FACE_MESH_MODELS(FACEKIT_MESH_ENUMERATOR)
#undef FACEKIT_MESH_ENUMERATOR
};

/// One registered mesh model.
struct MeshModelEntry {
  FaceMeshModel model;
  const char* name;  // the enumerator's name
  const MeshModelInfo* info;
  Expected<std::unique_ptr<MeshStage>> (*create)(std::shared_ptr<const Model>, const Backend&, ArenaMemory);
};

/// Every registered mesh model, and their count.
inline const MeshModelEntry* mesh_models(std::size_t* count) noexcept {
#define FACEKIT_MESH_ENTRY(name, Stage) {FaceMeshModel::name, #name, &Stage::kInfo, &MeshStage::create<Stage>},
  static const MeshModelEntry kModels[] = {FACEKIT_FACE_MESH_MODELS(FACEKIT_MESH_ENTRY)};
#undef FACEKIT_MESH_ENTRY
  *count = sizeof(kModels) / sizeof(kModels[0]);
  return kModels;
}

/// The entry of `model`; null when no mesh model has that value.
inline const MeshModelEntry* find_mesh_model(FaceMeshModel model) noexcept {
  std::size_t n = 0;
  const MeshModelEntry* all = mesh_models(&n);
  for (std::size_t i = 0; i < n; ++i)
    if (all[i].model == model) return &all[i];
  return nullptr;
}

/// The registered names ("a, b or c"), for error messages.
inline std::string mesh_model_names() {
  std::size_t n = 0;
  const MeshModelEntry* all = mesh_models(&n);
  std::string names;
  for (std::size_t i = 0; i < n; ++i) names += std::string(i == 0 ? "" : i + 1 == n ? " or " : ", ") + all[i].name;
  return names;
}

/// The mesh stage of `model`, which must have the kind of `which`'s model; the error names the
/// option value that would fit when the kind is another registered model's.
inline Expected<std::unique_ptr<MeshStage>> create_mesh_stage(FaceMeshModel which, std::shared_ptr<const Model> model,
                                                              const Backend& backend = *cpu_backend(),
                                                              ArenaMemory arena = {}) {
  const MeshModelEntry* entry = find_mesh_model(which);
  if (!entry) return Status::error("landmark_model %d is not %s", int(which), mesh_model_names().c_str());
  if (!model) return Status::error("landmark model is null");
  const MeshModelInfo& info = *entry->info;
  if (model->kind() != info.kind) {
    std::string hint;
    std::size_t n = 0;
    const MeshModelEntry* all = mesh_models(&n);
    for (std::size_t i = 0; i < n; ++i)
      if (model->kind() == all[i].info->kind) hint = std::string(", or set landmark_model = ") + all[i].name;
    return Status::error("landmark model kind is '%s', expected '%s' (convert %s%s)", model->kind().c_str(), info.kind,
                         info.source, hint.c_str());
  }
  return entry->create(std::move(model), backend, arena);
}

}  // namespace facekit
