package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrPlugin;
import dev.accr.api.BulkReader;
import dev.accr.api.BulkWriter;
import dev.accr.api.MemoryView;
import dev.accr.api.PluginContext;
import dev.accr.api.ProcessView;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.BytesMovedEntry;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.PhaseTimeEntry;
import dev.accr.proto.RestoreStatsEntry;
import dev.accr.workload.CounterWorkload;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dump and restore statistics count host memory and every plugin's bulk data, per phase. */
class BytesMovedTest {
  private static final int CHUNK = 256 << 10;

  /** Dumps three chunks of "device memory" (one of zeros) and reads them back on restore. */
  private static final class BulkPlugin implements AccrPlugin {
    final AtomicLong restored = new AtomicLong();

    @Override
    public String name() {
      return "blob";
    }

    @Override
    public int apiVersion() {
      return API_VERSION;
    }

    @Override
    public boolean checkpointDevices(PluginContext ctx, ProcessView process) {
      try (Arena arena = Arena.ofConfined(); BulkWriter w = ctx.images().createBulk("mem", 0)) {
        MemorySegment data = arena.allocate(CHUNK);
        for (long i = 0; i < CHUNK; i += 8) {
          data.set(java.lang.foreign.ValueLayout.JAVA_LONG, i, i * 0x9E3779B97F4A7C15L);
        }
        w.write(0, data);
        w.write(1, arena.allocate(CHUNK)); // zeros: skipped
        w.write(2, data.asSlice(0, CHUNK / 4));
      }
      return true;
    }

    @Override
    public void postForking(PluginContext ctx, ProcessView process) {
      try (BulkReader r = ctx.images().openBulk("mem", 0)) {
        r.forEach(1, (key, data) -> restored.addAndGet(data.byteSize()));
      }
    }
  }

  @TempDir Path tmp;

  @Test
  void dumpAndRestoreCountHostMemoryAndEachPluginsBytesPerPhase() throws Exception {
    BulkPlugin plugin = new BulkPlugin();
    Registry registry = Registry.of(List.of(plugin), List.of(), List.of(new CounterWorkload()));
    try (Node a = new Node("a", registry.topologies().load("cpu-only"), registry);
        Node b = new Node("b", registry.topologies().load("cpu-only"), registry)) {
      SimProcess p = a.create("counter", List.of("--mem-mib", "2", "--steps", "10",
          "--pages-per-step", "64", "--out", tmp.resolve("c.out").toString()), tmp, 0);
      for (int i = 0; i < 3; i++) {
        p.stepInline();
      }
      long resident = p.memory().residentPages();
      Path dir = tmp.resolve("set");
      DumpStatsEntry dumped = new Dumper(a, PluginHost.of(registry.plugins()))
          .dump(p.pid(), dir, DumpOptions.defaults().withThreads(2), ProgressListener.NONE);

      assertEquals(List.of("freeze", "devices", "memory", "write", "sync"),
          phases(dumped.getPhasesList()));
      BytesMovedEntry memory = dumped.getMoved(0);
      assertEquals("memory", memory.getSource());
      assertEquals(dumped.getBytesRead(), memory.getBytesRead());
      assertEquals(dumped.getPagesSkippedZero() * MemoryView.PAGE_SIZE, memory.getBytesSkipped());
      assertEquals(memory.getBytesRead() - memory.getBytesSkipped(), memory.getBytesWritten());
      assertTrue(memory.getBytesWritten() >= resident * MemoryView.PAGE_SIZE / 2, memory.toString());
      BytesMovedEntry blob = dumped.getMoved(1);
      assertEquals("blob", blob.getSource());
      long given = CHUNK * 2L + CHUNK / 4;
      assertEquals(given, blob.getBytesRead());
      assertEquals(CHUNK, blob.getBytesSkipped());
      assertEquals(given - CHUNK, blob.getBytesWritten());
      assertTrue(blob.getBytesStored() >= blob.getBytesWritten(), "stored uncompressed");
      assertEquals(2, dumped.getMovedCount());

      DumpStatsEntry inSet = EntryImageCodec.read(dir.resolve("stats-dump.img"),
          ImageKind.STATS_DUMP, null).single(DumpStatsEntry.parser());
      assertEquals(List.of("freeze", "devices", "memory", "write"),
          phases(inSet.getPhasesList()), "the set's file is written before the sync");
      assertEquals(dumped.getMovedList(), inSet.getMovedList());

      Restorer.Result result = new Restorer(b, PluginHost.of(registry.plugins()))
          .restore(dir, RestoreOptions.defaults().withStart(RestoreOptions.Start.INLINE),
              ProgressListener.NONE);
      RestoreStatsEntry restored = result.stats();
      assertEquals(List.of("plan", "memory", "devices", "start"),
          phases(restored.getPhasesList()));
      assertEquals(p.pid(), restored.getPid());
      assertEquals("b", restored.getNode());
      BytesMovedEntry hostBack = restored.getMoved(0);
      assertEquals(result.bytesRead(), hostBack.getBytesRead());
      assertEquals(memory.getBytesWritten(), hostBack.getBytesWritten());
      BytesMovedEntry blobBack = restored.getMoved(1);
      assertEquals("blob", blobBack.getSource());
      assertEquals(blob.getBytesWritten(), blobBack.getBytesWritten());
      assertEquals(blob.getBytesStored(), blobBack.getBytesRead());
      assertEquals(plugin.restored.get(), blobBack.getBytesWritten());
      long phasesUs = restored.getPhasesList().stream().mapToLong(PhaseTimeEntry::getTimeUs).sum();
      assertTrue(phasesUs <= restored.getTotalTimeUs(), restored.toString());
    }
  }

  private static List<String> phases(List<PhaseTimeEntry> phases) {
    return phases.stream().map(PhaseTimeEntry::getPhase).toList();
  }
}
