// The registry: one line per objective, in the order the CLI, the help and the dialog list them
// (text first). PREFLAB_OBJECTIVE(id) names the `ObjectiveDefinition idObjective()` that the
// objective's own source file defines. Included only by objective_registry.cpp.
// clang-format off
PREFLAB_OBJECTIVE(sft)
PREFLAB_OBJECTIVE(dpo)
PREFLAB_OBJECTIVE(ipo)
PREFLAB_OBJECTIVE(cdpo)
PREFLAB_OBJECTIVE(robust)
PREFLAB_OBJECTIVE(hinge)
PREFLAB_OBJECTIVE(simpo)
PREFLAB_OBJECTIVE(simper)
PREFLAB_OBJECTIVE(orpo)
PREFLAB_OBJECTIVE(rdpo)
PREFLAB_OBJECTIVE(kto)
PREFLAB_OBJECTIVE(reward)
PREFLAB_OBJECTIVE(diffusionDpo)
PREFLAB_OBJECTIVE(dspo)
PREFLAB_OBJECTIVE(dspoSdxlPath)
PREFLAB_OBJECTIVE(diffusionSft)
PREFLAB_OBJECTIVE(diffusionKto)
// clang-format on
