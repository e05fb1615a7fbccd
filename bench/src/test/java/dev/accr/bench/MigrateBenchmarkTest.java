package dev.accr.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.bench.MigrateBenchmark.Mode;
import dev.accr.engine.Benchmark;
import dev.accr.kernel.NodeMemory;
import dev.accr.kernel.Registry;
import dev.accr.proto.MigrateReply;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Small runs of {@code bench --migrate}: what each run and each workload leaves behind. */
class MigrateBenchmarkTest {
  private static final List<String> SERVE = List.of("kfd-serve", "--gpus", "2",
      "--weights-mib", "3", "--kv-mib", "2", "--steps", "100000000");

  @TempDir Path tmp;

  @Test
  void eachWorkloadRunsOnANodePairOfItsOwnClosedBeforeTheNextStarts() throws IOException {
    List<TlsNodePair> opened = new ArrayList<>();
    StringWriter text = new StringWriter();
    bench(opened).run(parameters(Map.of(), "cold"), new PrintWriter(text, true));
    String out = text.toString();
    assertEquals(2, opened.size(), out);
    assertTrue(opened.stream().allMatch(TlsNodePair::isClosed), out);
    for (String w : List.of("kfd-serve", "kfd-train")) {
      assertTrue(out.lines().anyMatch(l -> l.matches("  " + w + " +cold +\\d+\\.\\d .*")), out);
    }
  }

  @Test
  void aMigrationInEachModeLeavesNoProcessNorMemoryOnEitherNode() throws IOException {
    Benchmark.Parameters p = parameters(Map.of(), "cold");
    Path root = tmp.resolve("root");
    try (TlsNodePair nodes = TlsNodePair.start(p, Files.createDirectory(tmp.resolve("work")),
        root)) {
      for (Mode mode : Mode.values()) {
        MigrateReply reply = MigrateBenchmark.migrateOnce(p, nodes, SERVE, 0, mode, root)
            .reply();
        assertTrue(reply.getPid() > 0 && reply.getDowntimeUs() > 0, mode.label + ": " + reply);
        assertNothingLeft(nodes, mode.label);
      }
    }
  }

  @Test
  void aFailedMigrationLeavesNoProcessOnTheSource() throws IOException {
    // A staging budget the kfd plugin refuses: the source's dump fails, the process runs on.
    Benchmark.Parameters p = parameters(Map.of("kfd.staging-mib", "1"), "cold");
    Path root = tmp.resolve("root");
    try (TlsNodePair nodes = TlsNodePair.start(p, Files.createDirectory(tmp.resolve("work")),
        root)) {
      assertThrows(AccrException.class,
          () -> MigrateBenchmark.migrateOnce(p, nodes, SERVE, 0, Mode.COLD, root));
      assertNothingLeft(nodes, "failed");
    }
  }

  @Test
  void failedMigrationsAreReportedAndTheirNodePairsClosed() {
    List<TlsNodePair> opened = new ArrayList<>();
    StringWriter text = new StringWriter();
    AccrException e = assertThrows(AccrException.class, () -> bench(opened).run(
        parameters(Map.of("kfd.staging-mib", "1"), "cold"), new PrintWriter(text, true)));
    assertEquals(AccrException.FAILED, e.exitCode(), e.getMessage());
    assertTrue(e.getMessage().endsWith("2 of the migrations failed (kfd-serve cold, kfd-train"
        + " cold)"), e.getMessage());
    assertEquals(2, text.toString().lines().filter(l -> l.contains(" failed: ")).count(),
        text.toString());
    assertEquals(2, opened.size());
    assertTrue(opened.stream().allMatch(TlsNodePair::isClosed));
  }

  /** The bench, its node pairs kept in {@code opened}; each must start after the last closed. */
  private static MigrateBenchmark bench(List<TlsNodePair> opened) {
    return new MigrateBenchmark((p, work, root) -> {
      assertTrue(opened.stream().allMatch(TlsNodePair::isClosed),
          "a node pair was still open when the next workload's started");
      TlsNodePair pair = TlsNodePair.start(p, work, root);
      opened.add(pair);
      return pair;
    });
  }

  /** Asserts, once it holds or after 10 s, that neither node holds a process or memory. */
  private static void assertNothingLeft(TlsNodePair nodes, String what) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline && !nothingLeft(nodes)) {
      try {
        Thread.sleep(20); // a process's end may still be on its way (a device thread's)
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    for (TlsNodePair.Served s : List.of(nodes.a(), nodes.b())) {
      String where = what + ", node " + s.node().name();
      assertEquals(List.of(), s.node().processes(), where);
      NodeMemory memory = s.node().memory();
      assertEquals(0, memory.residentPages(), where);
      assertEquals(0, memory.stagedPages(), where);
      assertEquals(0, memory.reservedBytes(), where);
    }
  }

  private static boolean nothingLeft(TlsNodePair nodes) {
    return List.of(nodes.a(), nodes.b()).stream().allMatch(s -> s.node().processes().isEmpty()
        && s.node().memory().residentPages() == 0 && s.node().memory().stagedPages() == 0
        && s.node().memory().reservedBytes() == 0);
  }

  private Benchmark.Parameters parameters(Map<String, String> pluginOptions, String modes) {
    return new Benchmark.Parameters(Registry.load(List.of()), 4, tmp, 0, 1, 2, pluginOptions,
        Map.of("migrate-step-delay-ms", "0", "migrate-modes", modes,
            "migrate-workloads", "kfd-serve,kfd-train"));
  }
}
