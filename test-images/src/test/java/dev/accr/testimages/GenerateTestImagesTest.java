package dev.accr.testimages;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.ImageSet;
import dev.accr.engine.Version;
import dev.accr.image.Compression;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.FileEntry;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Writes the image sets of the current format version that are missing from
 * {@code sets/v<N>/}, one recipe of {@link SetRecipes} after the other, then the chains of
 * {@link ChainRecipes} whose folder is missing, and records them in versions.txt. Existing sets
 * and chains are never touched. Runs only when asked (test-images/README.md).
 */
@EnabledIfSystemProperty(named = "accr.generateTestImages", matches = "true")
class GenerateTestImagesTest {
  /** Where processes run; files they open are recreated there when a set is restored. */
  private static final Path WORK_DIR = Path.of("/tmp/accr-test-images");

  @Test
  void generateMissingSetsOfTheCurrentVersion() throws IOException {
    Files.createDirectories(WORK_DIR);
    Files.createDirectories(TestImageSets.currentVersionDir());
    for (SetRecipes.Recipe recipe : SetRecipes.ALL) {
      boolean missing = recipe.setNames().stream()
          .anyMatch(n -> !Files.exists(TestImageSets.currentVersionDir().resolve(n)));
      if (missing) {
        generate(recipe);
      }
    }
    for (ChainRecipes.ChainRecipe chain : ChainRecipes.ALL) {
      if (!Files.exists(TestImageSets.currentVersionDir().resolve(chain.name()))) {
        new ChainGenerator(chain, WORK_DIR).generate();
      }
    }
    Map<Integer, TestImageSets.VersionLine> versions = TestImageSets.versions();
    TestImageSets.VersionLine old = versions.get(ImageKind.VERSION_CURRENT);
    versions.put(ImageKind.VERSION_CURRENT, new TestImageSets.VersionLine(
        ImageKind.VERSION_CURRENT, old == null ? Version.get() : old.toolVersion(),
        TestImageSets.setsOf(ImageKind.VERSION_CURRENT)));
    TestImageSets.writeVersions(versions);
  }

  /** One uninterrupted run for the digest, then one run dumped at each point of the recipe. */
  private static void generate(SetRecipes.Recipe recipe) throws IOException {
    String digest;
    try (Node node = Scenarios.node("generator", recipe.topology())) {
      digest = Scenarios.uninterrupted(node, recipe.workload(),
          args(recipe.args(), recipe.writesFile(), "uninterrupted"), WORK_DIR);
    }
    try (Node node = Scenarios.node("generator", recipe.topology())) {
      SimProcess p = node.create(recipe.workload(),
          args(recipe.args(), recipe.writesFile(), recipe.name()), WORK_DIR, 0);
      int stepped = 0;
      for (int i = 0; i < recipe.dumpAfter().size(); i++) {
        Path set = TestImageSets.currentVersionDir().resolve(recipe.setNames().get(i));
        boolean last = i == recipe.dumpAfter().size() - 1;
        Scenarios.step(node, p, recipe.dumpAfter().get(i) - stepped);
        stepped = recipe.dumpAfter().get(i);
        if (Files.exists(set)) {
          continue;
        }
        Scenarios.dump(node, p, set, DumpOptions.defaults().withThreads(2)
            .withCompression(Compression.parse(recipe.compression())).withLeaveRunning(!last));
        Files.writeString(set.resolve(TestImageSets.EXPECTED_DIGEST), digest + "\n");
        saveOpenFiles(set);
      }
    }
  }

  /** A recipe's arguments, with {@code --out} a fresh file when the workload writes one. */
  static List<String> args(List<String> recipeArgs, boolean writesFile, String outName)
      throws IOException {
    List<String> args = new ArrayList<>(recipeArgs);
    if (writesFile) {
      Path out = WORK_DIR.resolve(outName + ".out");
      Files.deleteIfExists(out);
      args.addAll(List.of("--out", out.toString()));
    }
    return args;
  }

  /** Images hold no file contents: keep those of the regular files the process had open. */
  static void saveOpenFiles(Path set) throws IOException {
    TreeSet<String> names = new TreeSet<>();
    for (FileEntry f : ImageSet.read(set).files().values()) {
      if (f.hasReg()) {
        Path recorded = Path.of(f.getReg().getPath());
        if (!names.add(recorded.getFileName().toString())) {
          throw new IllegalStateException("two open files named " + recorded.getFileName());
        }
        Files.createDirectories(set.resolve(TestImageSets.FILES));
        Files.copy(recorded, set.resolve(TestImageSets.FILES).resolve(recorded.getFileName()));
      }
    }
  }
}
