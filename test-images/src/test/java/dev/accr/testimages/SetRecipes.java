package dev.accr.testimages;

import java.util.List;
import java.util.stream.Stream;

/**
 * What the generator writes for each format version: one recipe per workload and device type.
 * A new workload gets its sets by adding a recipe here and running the generator (see
 * test-images/README.md); the build then requires its set for the current version. Incremental
 * chains have their recipes in {@link ChainRecipes}.
 */
final class SetRecipes {
  /**
   * One run of a workload on a node of {@code topology}, dumped after each count of steps in
   * {@code dumpAfter} (all but the last leave it running). The first dump is the set
   * {@code name}, a second one {@code name-later}: two checkpoints of one process. When
   * {@code writesFile}, the workload also gets {@code --out FILE}, a file it keeps open.
   */
  record Recipe(String name, String workload, String topology, List<String> args,
      boolean writesFile, List<Integer> dumpAfter, String compression) {

    List<String> setNames() {
      return dumpAfter.size() == 1 ? List.of(name) : List.of(name, name + "-later");
    }
  }

  static final List<Recipe> ALL = List.of(
      new Recipe("counter", "counter", "cpu-only", List.of("--mem-mib", "1", "--steps", "30",
          "--seed", "2026", "--pages-per-step", "4"), true, List.of(12), "zstd:3"),
      new Recipe("kfd-train", "kfd-train", "mi100x2", List.of("--gpus", "2", "--vram-kib", "512",
          "--steps", "10", "--seed", "2026", "--gpu-us-per-wg", "20"), false, List.of(3, 6), "zstd:3"),
      new Recipe("kfd-halo", "kfd-halo", "mi250x4", List.of("--gpus", "2", "--vram-kib", "512",
          "--steps", "10", "--seed", "2026", "--gpu-us-per-wg", "20"), false, List.of(4), "zstd:3"),
      new Recipe("npu-infer", "npu-infer", "npu4", List.of("--steps", "12", "--seed", "2026",
          "--model-mib", "1", "--npu-us-per-req", "50"), false, List.of(5), "zstd:3"),
      new Recipe("mixed-pipeline", "mixed-pipeline", "mixed", List.of("--steps", "12", "--seed",
          "2026", "--model-mib", "1", "--npu-us-per-req", "50", "--gpu-us-per-wg", "20"), false,
          List.of(5), "zstd:3"),
      new Recipe("pipe-chain", "pipe-chain", "cpu-only", List.of("--stages", "3", "--steps",
          "12", "--seed", "2026", "--mem-mib", "1"), true, List.of(8), "zstd:3"),
      new Recipe("kfd-ddp", "kfd-ddp", "mi250x4", List.of("--gpus", "4", "--vram-kib", "256",
          "--steps", "6", "--seed", "2026", "--gpu-us-per-wg", "20"), false, List.of(9),
          "zstd:3"));

  private SetRecipes() {}

  /** The names of every set and chain the generator writes for one format version. */
  static List<String> setNames() {
    return Stream.concat(ALL.stream().flatMap(r -> r.setNames().stream()),
        ChainRecipes.ALL.stream().map(ChainRecipes.ChainRecipe::name)).sorted().toList();
  }
}
