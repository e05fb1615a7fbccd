package dev.accr.kfd.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.PluginImages;
import dev.accr.engine.Compactor;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.engine.ImageSet;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.KfdNodes;
import dev.accr.kfd.proto.KfdBoChange;
import dev.accr.kfd.proto.KfdDiff;
import dev.accr.plugin.SetImages;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code accr diff} of kfd sets compares the links of a chain from the pages they wrote; the
 * result is the one of reading every stored page of both chains, in either direction, between
 * neighbours and across links, and against a set folded from the chain (which shares its
 * checkpoint id with the link it folds).
 */
class KfdChainDiffTest {
  @TempDir Path tmp;

  @Test
  void linksOfAChainCompareFromTheirWrittenPagesAsFromAllPages() throws Exception {
    List<String> args = List.of("--gpus", "2", "--weights-mib", "2", "--kv-mib", "2",
        "--requests", "4", "--steps", "40", "--seed", "9", "--gpu-us-per-wg", "5");
    Path[] links = new Path[3];
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      SimProcess p = a.create("kfd-serve", args, tmp, 0);
      for (int i = 0; i < links.length; i++) {
        Scenarios.step(p, 3);
        links[i] = tmp.resolve("link" + i);
        Dumper d = new Dumper(a, Scenarios.plugins(a)).withParent(i == 0 ? null : links[i - 1],
            UnaryOperator.identity());
        if (i == 0) {
          d.preDump(p.pid(), links[i], DumpOptions.defaults(), ProgressListener.NONE);
        } else {
          d.dump(p.pid(), links[i], DumpOptions.defaults().withLeaveRunning(true),
              ProgressListener.NONE);
        }
      }
      Path full = tmp.resolve("full");
      Compactor.compact(links[1], full, DumpOptions.defaults(), a.registry().plugins());
      long changed = 0;
      for (Path[] pair : new Path[][] {{links[0], links[2]}, {links[1], links[2]},
          {links[2], links[0]}, {full, links[2]}, {links[0], full}}) {
        KfdDiff fast = diff(pair[0], pair[1], true);
        assertEquals(diff(pair[0], pair[1], false), fast, pair[0] + " -> " + pair[1]);
        changed += fast.getBosList().stream().map(KfdBoChange::getPages)
            .mapToLong(c -> c.getChanged() + c.getAdded()).sum();
      }
      assertTrue(changed > 0, "the workload changed some VRAM pages between links");
    }
  }

  /**
   * Two sets of different processes: each buffer of one is removed with the pages it stored,
   * each of the other added with its pages, never the pages of the other process's buffer at
   * the same GPU address.
   */
  @Test
  void buffersOfAProcessInOneSetOnlyCountTheirOwnPages() throws Exception {
    List<String> args = List.of("--gpus", "2", "--vram-kib", "512", "--steps", "40", "--seed",
        "3", "--gpu-us-per-wg", "5");
    Path first = tmp.resolve("first");
    Path second = tmp.resolve("second");
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      SimProcess p = a.create("kfd-train", args, tmp, 0);
      SimProcess q = a.create("kfd-train", args, tmp, 0);
      Scenarios.step(p, 3);
      Scenarios.step(q, 3);
      Dumper d = new Dumper(a, Scenarios.plugins(a));
      d.dump(p.pid(), first, DumpOptions.defaults(), ProgressListener.NONE);
      d.dump(q.pid(), second, DumpOptions.defaults(), ProgressListener.NONE);
    }
    KfdDiff diff = diff(first, second, true);
    long removed = 0;
    long added = 0;
    for (KfdBoChange b : diff.getBosList()) {
      assertTrue(!b.getStatus().isEmpty(), "no buffer is kept across processes: " + b);
      assertEquals(0, b.getPages().getSame() + b.getPages().getChanged(), b.toString());
      removed += b.getPages().getRemoved();
      added += b.getPages().getAdded();
    }
    assertTrue(removed > 0 && added > 0, "removed " + removed + ", added " + added);
  }

  private static KfdDiff diff(Path from, Path to, boolean fast) throws Exception {
    var r = KfdDiffs.diff(images(from), images(to), fast);
    assertNotNull(r);
    return (KfdDiff) r.details();
  }

  private static PluginImages images(Path dir) throws Exception {
    return SetImages.reader("kfd", dir, ImageSet.read(dir).id());
  }
}
