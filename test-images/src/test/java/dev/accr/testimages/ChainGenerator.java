package dev.accr.testimages;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.Compression;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testimages.ChainRecipes.ChainRecipe;
import dev.accr.testimages.ChainRecipes.Kind;
import dev.accr.testimages.ChainRecipes.Link;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Writes one chain of {@link ChainRecipes} into {@code sets/v<N>/<name>/}: first into a
 * sibling folder that the build ignores, renamed into place once every link is written, so
 * that an interrupted generator leaves no chain that looks whole.
 */
final class ChainGenerator {
  private final ChainRecipe recipe;
  private final Path workDir;

  ChainGenerator(ChainRecipe recipe, Path workDir) {
    this.recipe = recipe;
    this.workDir = workDir;
  }

  void generate() throws IOException {
    Path chain = TestImageSets.currentVersionDir().resolve(recipe.name());
    Path partial = chain.resolveSibling(recipe.name() + ".partial");
    deleteTree(partial);
    Files.createDirectories(partial);
    List<Link> links = recipe.links();
    try (Node node = Scenarios.node("generator", recipe.topology())) {
      SimProcess p = node.create(recipe.workload(), GenerateTestImagesTest.args(recipe.args(),
          recipe.writesFile(), recipe.name()), workDir, 0);
      int stepped = 0;
      Path previous = null;
      for (int i = 0; i < links.size(); i++) {
        Link link = links.get(i);
        Scenarios.step(node, p, link.after() - stepped);
        stepped = link.after();
        link.edit().apply(p);
        Path dir = partial.resolve(TestImageSets.LINK + (i + 1));
        Dumper dumper = new Dumper(node, Scenarios.plugins(node)).withParent(previous,
            UnaryOperator.identity());
        DumpOptions options = DumpOptions.defaults().withThreads(2)
            .withCompression(Compression.parse(recipe.compression()));
        if (link.kind() == Kind.PRE_DUMP) {
          dumper.preDump(p.pid(), dir, options, ProgressListener.NONE);
        } else {
          dumper.dump(p.pid(), dir, options.withLeaveRunning(i < links.size() - 1),
              ProgressListener.NONE);
          GenerateTestImagesTest.saveOpenFiles(dir);
        }
        previous = dir;
      }
    }
    // A process restored from a link runs on without the later links' edits.
    for (int i = 0; i < links.size(); i++) {
      if (links.get(i).kind() != Kind.PRE_DUMP) {
        Files.writeString(partial.resolve(TestImageSets.LINK + (i + 1))
            .resolve(TestImageSets.EXPECTED_DIGEST), digestRestoredAt(i) + "\n");
      }
    }
    Files.copy(partial.resolve(TestImageSets.LINK + links.size())
        .resolve(TestImageSets.EXPECTED_DIGEST), partial.resolve(TestImageSets.EXPECTED_DIGEST));
    Files.move(partial, chain);
  }

  /** The digest of an uninterrupted run with the edits of links 0 to {@code link}. */
  private String digestRestoredAt(int link) throws IOException {
    try (Node node = Scenarios.node("generator", recipe.topology())) {
      SimProcess p = node.create(recipe.workload(), GenerateTestImagesTest.args(recipe.args(),
          recipe.writesFile(), "uninterrupted"), workDir, 0);
      int stepped = 0;
      for (Link l : recipe.links().subList(0, link + 1)) {
        Scenarios.step(node, p, l.after() - stepped);
        stepped = l.after();
        l.edit().apply(p);
      }
      return Scenarios.finish(node, p);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }
}
