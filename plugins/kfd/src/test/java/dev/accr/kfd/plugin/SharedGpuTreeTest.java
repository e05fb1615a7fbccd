package dev.accr.kfd.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.FileView;
import dev.accr.api.ProcessView;
import dev.accr.api.ThreadView;
import dev.accr.api.Workload;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.driver.Bo;
import dev.accr.kfd.driver.KfdDeviceType;
import dev.accr.kfd.driver.KfdDriver;
import dev.accr.kfd.driver.KfdProcess;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A parent and its child both hold VRAM on the same GPU: each process's VRAM goes to files of
 * its own. The tree, dumped at moments while both run, then dumped again as an incremental
 * link, restores from either set and ends with the digest of an uninterrupted run.
 */
class SharedGpuTreeTest {
  private static final long PARENT_VA = 0x40_0000_0000L;
  private static final long CHILD_VA = 0x50_0000_0000L;
  private static final long SIZE = 64 << 10;
  private static final int STEPS = 30;
  private static final Pattern VRAM_INDEX =
      Pattern.compile("kfd-vram(?:-packed)?-p(\\d+)-\\d+\\.pagemap\\.img");

  @TempDir Path tmp;

  /**
   * The parent forks; each process then opens the first GPU, fills a buffer of its own there,
   * and keeps rewriting it (summing what it reads in a register); the parent reaps the child.
   */
  static final class SharedGpu implements Workload {
    // Registers of thread 0: phase, step, /dev/kfd descriptor, role, sum of what was read.
    private static final int PHASE = 0;
    private static final int STEP = 1;
    private static final int KFD = 2;
    private static final int CHILD = 3;
    private static final int SUM = 4;

    @Override
    public String name() {
      return "shared-gpu";
    }

    @Override
    public String description() {
      return "a parent and its child use VRAM of the same GPU";
    }

    @Override
    public String usage() {
      return "";
    }

    @Override
    public void exec(ProcessView p, List<String> args) {}

    @Override
    public boolean step(ProcessView p) {
      ThreadView t = p.thread(0);
      boolean child = t.gpr(CHILD) != 0;
      long va = child ? CHILD_VA : PARENT_VA;
      switch ((int) t.gpr(PHASE)) {
        case 0 -> {
          if (!child) {
            t.setGpr(CHILD, 1);
            p.fork();
            t.setGpr(CHILD, 0);
          }
          t.setGpr(PHASE, 1);
        }
        case 1 -> {
          t.setGpr(KFD, p.files().openDevice(KfdProcess.PATH));
          KfdProcess kfd = kfd(p);
          int gpu = kfd.gpuIds().getFirst();
          kfd.restrictDevices(List.of(gpu));
          kfd.allocVram(gpu, va, SIZE, Bo.FLAG_CPU_VISIBLE);
          for (long at = 0; at < SIZE; at += 8) {
            kfd.cpuWriteLong(va + at, at * (child ? 5 : 7) + 1);
          }
          t.setGpr(PHASE, 2);
        }
        case 2 -> {
          long s = t.gpr(STEP);
          if (s >= STEPS) {
            t.setGpr(PHASE, 3);
            return !child;
          }
          KfdProcess kfd = kfd(p);
          long next = kfd.cpuReadLong(va + 8 * ((s + 1) % (SIZE / 8)));
          kfd.cpuWriteLong(va + 8 * (s % (SIZE / 8)), next * 31 + s);
          t.setGpr(SUM, t.gpr(SUM) * 17 + next);
          t.setGpr(STEP, s + 1);
        }
        default -> {
          return p.waitChild(-1) == FileView.WOULD_BLOCK;
        }
      }
      return true;
    }

    private static KfdProcess kfd(ProcessView p) {
      return p.files().device((int) p.thread(0).gpr(KFD), KfdProcess.class);
    }
  }

  private static Node node(String name) {
    Registry r = Registry.of(List.of(new KfdPlugin()), List.of(new KfdDeviceType()),
        List.of(new SharedGpu()));
    return new Node(name, r.topologies().load("mi250x4"), r);
  }

  @Test
  void eachProcessKeepsItsOwnVramFilesAndTheTreeRestoresWithTheSameDigest() throws Exception {
    String expected;
    try (Node a = node("a")) {
      expected = Scenarios.finish(a, a.create("shared-gpu", List.of(), tmp, 0));
    }
    for (int at : new int[] {3, 11}) {
      Path full = tmp.resolve("full-" + at);
      Path link = tmp.resolve("link-" + at);
      try (Node a = node("a"); Node b = node("b"); Node c = node("c")) {
        SimProcess root = a.create("shared-gpu", List.of(), tmp, 0);
        Scenarios.step(a, root, at);
        int child = root.lineage().children().getFirst();
        Set<String> both = Set.of("" + root.pid(), "" + child);
        Scenarios.dump(a, root, full, DumpOptions.defaults().withLeaveRunning(true));
        assertEquals(both, vramOwners(full), "each process has its own VRAM files");
        Scenarios.step(a, root, 4);
        new Dumper(a, Scenarios.plugins(a)).withParent(full, UnaryOperator.identity())
            .dump(root.pid(), link, DumpOptions.defaults(), ProgressListener.NONE);
        assertTrue(a.processes().isEmpty(), "the last dump ended the tree");
        assertEquals(0, a.driver("kfd", KfdDriver.class).allocatedVramBytes());
        assertEquals(both, vramOwners(link), "the link too");
        assertEquals(expected, Scenarios.finish(b, Scenarios.restore(b, full)),
            "full set dumped after " + at + " rounds");
        assertEquals(expected, Scenarios.finish(c, Scenarios.restore(c, link)),
            "incremental link dumped after " + (at + 4) + " rounds");
        assertEquals(0, c.driver("kfd", KfdDriver.class).allocatedVramBytes());
      }
    }
  }

  /** The pids whose VRAM files a set holds. */
  private static Set<String> vramOwners(Path set) throws IOException {
    try (Stream<Path> files = Files.list(set)) {
      return files.map(f -> VRAM_INDEX.matcher(f.getFileName().toString()))
          .filter(Matcher::matches).map(m -> m.group(1)).collect(Collectors.toSet());
    }
  }
}
