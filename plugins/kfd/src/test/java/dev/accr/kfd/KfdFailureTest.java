package dev.accr.kfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import dev.accr.api.AccrException;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.Dumper;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.plugin.KfdPlugin;
import dev.accr.kfd.proto.KfdEventEntry;
import dev.accr.kfd.proto.KfdQueueEntry;
import dev.accr.kfd.proto.KfdSvmRangeEntry;
import dev.accr.kfd.proto.SvmResidencyRun;
import dev.accr.plugin.PluginHost;
import dev.accr.testkit.FailingLatePlugin;
import dev.accr.testkit.Scenarios;
import java.io.RandomAccessFile;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures around GPU state: a dump that fails inside the plugin chain leaves the process
 * running with its queues unpaused; a restore that fails (damaged VRAM, hostile entries,
 * a CPU copy that cannot reach VRAM) leaves no process, no KFD state and no VRAM behind.
 */
class KfdFailureTest {
  private static final List<String> ARGS = List.of("--gpus", "2", "--vram-mib", "4", "--steps",
      "8", "--seed", "5", "--gpu-us-per-wg", "5");

  @TempDir Path tmp;

  private String expected() {
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      return Scenarios.uninterrupted(a, "kfd-train", ARGS, tmp);
    }
  }

  @Test
  void dumpFailingAfterTheKfdPluginLeavesTheProcessRunning() throws Exception {
    String expected = expected();
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      SimProcess p = a.create("kfd-train", ARGS, tmp, 0);
      Scenarios.step(p, 3);
      Path dir = tmp.resolve("images");
      PluginHost host = PluginHost.of(List.of(new KfdPlugin(),
          new FailingLatePlugin("injected failure after the kfd images were written")));
      AccrException e = assertThrows(AccrException.class, () -> new Dumper(a, host)
          .dump(p.pid(), dir, DumpOptions.defaults(), ProgressListener.NONE));
      assertTrue(e.getMessage().contains("injected"), e.getMessage());
      assertFalse(Files.exists(dir));
      assertEquals(expected, Scenarios.finish(a, p), "queues were unpaused; nothing was lost");
    }
  }

  @Test
  void dumpFailingInsideTheKfdPluginLeavesTheProcessRunning() throws Exception {
    String expected = expected();
    // A file system too small for the VRAM: the plugin's bulk write fails midway.
    try (FileSystem fs = Jimfs.newFileSystem(Configuration.unix().toBuilder()
        .setMaxSize(3L << 20).build()); Node a = KfdNodes.node("a", "mi100x2")) {
      SimProcess p = a.create("kfd-train", ARGS, tmp, 0);
      Scenarios.step(p, 2);
      Files.createDirectories(fs.getPath("/out"));
      AccrException e = assertThrows(AccrException.class,
          () -> Scenarios.dump(a, p, fs.getPath("/out/images"), DumpOptions.defaults()));
      assertEquals(AccrException.FAILED, e.exitCode(), e.getMessage());
      assertEquals(expected, Scenarios.finish(a, p));
    }
  }

  private Path dumpedSet(String name) throws Exception {
    Path dir = tmp.resolve(name);
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      SimProcess p = a.create("kfd-train", ARGS, tmp, 0);
      Scenarios.step(p, 3);
      Scenarios.dump(a, p, dir, DumpOptions.defaults());
    }
    return dir;
  }

  private static void assertRestoreLeavesNothing(Path dir, int exitCode, String mustContain)
      throws Exception {
    try (Node b = KfdNodes.node("b", "mi100x2")) {
      AccrException e = assertThrows(AccrException.class, () -> Scenarios.restore(b, dir));
      assertEquals(exitCode, e.exitCode(), e.getMessage());
      assertTrue(e.getMessage().contains(mustContain), e.getMessage());
      assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
      assertTrue(b.processes().isEmpty());
      assertEquals(0, KfdNodes.kfd(b).processCount());
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes(), "no VRAM is left allocated");
    }
  }

  @Test
  void damagedVramLeavesNothingBehind() throws Exception {
    Path dir = dumpedSet("damaged");
    Path pages;
    try (var s = Files.list(dir)) {
      pages = s.filter(f -> f.getFileName().toString().matches("kfd-vram-p\\d+-\\d+\\.pages\\.img"))
          .findFirst().orElseThrow();
    }
    try (RandomAccessFile f = new RandomAccessFile(pages.toFile(), "rw")) {
      long at = f.length() / 2;
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x10);
    }
    assertRestoreLeavesNothing(dir, AccrException.CORRUPT, pages.getFileName().toString());
  }

  private void hostile(String what, UnaryOperator<List<?>> change, String mustContain)
      throws Exception {
    Path dir = dumpedSet("hostile-" + what);
    String name;
    try (var s = Files.list(dir)) {
      name = s.map(f -> f.getFileName().toString())
          .filter(n -> n.matches("kfd-" + what + "-\\d+\\.img")).findFirst().orElseThrow();
    }
    var parser = switch (what) {
      case "queues" -> KfdQueueEntry.parser();
      case "events" -> KfdEventEntry.parser();
      default -> KfdSvmRangeEntry.parser();
    };
    @SuppressWarnings("unchecked")
    List<com.google.protobuf.MessageLite> changed = (List<com.google.protobuf.MessageLite>)
        change.apply(KfdImages.read(dir, name, parser));
    KfdImages.rewrite(dir, name, changed);
    assertRestoreLeavesNothing(dir, AccrException.CORRUPT, mustContain);
  }

  @Test
  void hostileRingSizeIsCorrupt() throws Exception {
    hostile("queues", l -> l.stream().map(q -> ((KfdQueueEntry) q).toBuilder()
        .setRingSlots(1 << 30).build()).toList(), "kfd-queues");
  }

  @Test
  void queueReadingBeyondItsWritesIsCorrupt() throws Exception {
    hostile("queues", l -> l.stream().map(q -> ((KfdQueueEntry) q).toBuilder()
        .setReadIndex(((KfdQueueEntry) q).getWriteIndex() + 1).build()).toList(), "kfd-queues");
  }

  @Test
  void entryDisagreeingWithItsSavedMqdIsCorrupt() throws Exception {
    // Each value alone is plausible (nothing left to run), but not what the device saved.
    hostile("queues", l -> l.stream().map(q -> ((KfdQueueEntry) q).toBuilder()
        .setReadIndex(((KfdQueueEntry) q).getWriteIndex()).setPreemptedPacket(0)
        .setPreemptedNextWorkgroup(0).build()).toList(), "read index");
  }

  @Test
  void shortControlStackIsCorrupt() throws Exception {
    hostile("queues", l -> l.stream().map(q -> ((KfdQueueEntry) q).toBuilder()
        .setCtlStack(((KfdQueueEntry) q).getCtlStack().substring(0, 8)).build()).toList(),
        "lengths 64 and 8 bytes");
  }

  @Test
  void hugeSvmRangeIsCorruptWithoutAllocating() throws Exception {
    hostile("svm", l -> l.stream().map(r -> ((KfdSvmRangeEntry) r).toBuilder()
        .setSize(1L << 46).build()).toList(), "kfd-svm");
  }

  @Test
  void signalCountNoDeviceCanReachIsCorrupt() throws Exception {
    hostile("events", l -> l.stream().map(e -> ((KfdEventEntry) e).toBuilder()
        .setSignalCount(Long.MAX_VALUE - 1).build()).toList(), "kfd-events");
  }

  @Test
  void signalCountBeyondTheProgramsStepsIsCorrupt() throws Exception {
    // Within what a device can count, but more than the steps so far can have signalled.
    hostile("events", l -> l.stream().map(e -> ((KfdEventEntry) e).toBuilder()
        .setSignalCount(1000).build()).toList(), "kfd-events");
  }

  @Test
  void residencyPagesWrappingPast2To32AreCorrupt() throws Exception {
    // Signed arithmetic would take 0xffffffff pages for -1 and find the sum right.
    hostile("svm", l -> l.stream().map(r -> {
      KfdSvmRangeEntry e = (KfdSvmRangeEntry) r;
      int pages = (int) (e.getSize() / 4096);
      return e.toBuilder().clearResidency()
          .addResidency(SvmResidencyRun.newBuilder().setFirstPage(0).setPages(pages + 1))
          .addResidency(SvmResidencyRun.newBuilder().setFirstPage(pages + 1).setPages(-1))
          .build();
    }).toList(), "kfd-svm");
  }

  @Test
  void cpuCopyOutsideTheVisibleWindowFailsClearly() throws Exception {
    try (Node a = KfdNodes.node("a", "mi100x2")) {
      SimProcess p = a.create("kfd-train", ARGS, tmp, 0);
      Scenarios.step(p, 1);
      AccrException e = assertThrows(AccrException.class, () -> Scenarios.dump(a, p,
          tmp.resolve("cpu"), DumpOptions.defaults()
              .withPluginOptions(java.util.Map.of("kfd.vram-copy", "cpu"))));
      assertTrue(e.getMessage().contains("CPU-visible window"), e.getMessage());
      assertFalse(Files.exists(tmp.resolve("cpu")));
      Scenarios.finish(a, p);
    }
  }
}
