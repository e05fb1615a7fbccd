package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.kernel.Node;
import dev.accr.kernel.NodeLimits;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.node.NodeService;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreRequest;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sixteen processes (counter and kfd-train) on one node are dumped eight at a time through the
 * node's service while the sets of the batch before are restored on a second node: every
 * restored process ends with the digest of its uninterrupted run, nothing waits forever, and
 * each node's bulk-I/O buffers stay within its one bound, which is small enough that the
 * operations at once must share it.
 */
class NodeLoadTest {
  private static final int PROCESSES = 16;
  private static final int BATCH = 8;
  private static final long BUFFER_BYTES = 12L << 20; // a few buffer sets for 8 operations

  @TempDir Path tmp;

  private record Program(String workload, List<String> args, int dumpAfter, String compression) {}

  @Test
  void sixteenProcessesDumpedEightAtATimeWhileEarlierSetsRestoreElsewhere() throws Exception {
    List<Program> programs = programs();
    long t0 = System.nanoTime();
    Map<Integer, String> expected = uninterruptedDigests(programs);
    System.out.printf("node load: reference runs in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    Registry registry = Scenarios.registry();
    NodeLimits limits = NodeLimits.defaults().withBufferBytes(BUFFER_BYTES);
    try (Node a = new Node("a", registry.topologies().load("mi250x4"), registry, limits);
        Node b = new Node("b", registry.topologies().load("mi250x4"), registry, limits);
        ExecutorService pool = Executors.newFixedThreadPool(2 * BATCH)) {
      NodeService dumps = new NodeService(a, () -> {});
      NodeService restores = new NodeService(b, () -> {});
      Path cwd = Files.createDirectories(tmp.resolve("run"));
      Files.createDirectories(tmp.resolve("sets"));
      List<Integer> pids = new ArrayList<>();
      for (int i = 0; i < PROCESSES; i++) {
        Program program = programs.get(i);
        // A directory each: processes of the same program write files of the same name.
        SimProcess p = a.create(program.workload(), program.args(),
            Files.createDirectories(cwd.resolve("p" + i)), 0);
        Scenarios.step(p, program.dumpAfter());
        pids.add(p.pid());
      }
      long start = System.nanoTime();
      System.out.printf("node load: processes set up in %d ms%n", (start - t0) / 1_000_000);
      List<Future<Integer>> restored = new ArrayList<>();
      List<Future<Long>> dumped = new ArrayList<>();
      for (int batch = 0; batch <= PROCESSES / BATCH; batch++) {
        List<Future<?>> running = new ArrayList<>();
        if (batch < PROCESSES / BATCH) {
          for (int i = batch * BATCH; i < (batch + 1) * BATCH; i++) {
            int index = i;
            Future<Long> f = pool.submit(() -> dump(dumps, pids.get(index), setOf(index),
                programs.get(index).compression()));
            running.add(f);
            dumped.add(f);
          }
        }
        if (batch > 0) {
          for (int i = (batch - 1) * BATCH; i < batch * BATCH; i++) {
            int index = i;
            Future<Integer> f = pool.submit(() -> restore(restores, setOf(index)));
            running.add(f);
            restored.add(f);
          }
        }
        for (Future<?> f : running) {
          f.get(60, TimeUnit.SECONDS); // a deadlock fails here instead of hanging the build
        }
      }
      for (int i = 0; i < PROCESSES; i++) {
        int pid = restored.get(i).get();
        assertEquals(pids.get(i), pid, "restored under its own pid");
        assertEquals(expected.get(i), b.waitFor(pid), "digest of process " + i + " ("
            + programs.get(i).workload() + ")");
      }
      long micros = (System.nanoTime() - start) / 1000;
      long bytes = 0;
      for (Future<Long> f : dumped) {
        bytes += f.get();
      }
      for (Node n : List.of(a, b)) {
        assertTrue(n.buffers().peak() <= BUFFER_BYTES, n.name() + ": buffers peaked at "
            + n.buffers().peak() + " bytes, over the bound of " + BUFFER_BYTES);
        assertTrue(n.buffers().peak() > 0, n.name() + ": no buffer came from the bound");
        assertEquals(0, n.buffers().inUse(), n.name() + ": buffers still granted");
      }
      assertEquals(0, a.processes().size(), "every dumped process left node a");
      System.out.printf("node load: %d processes dumped %d at a time and restored in %d ms"
          + " (%d KiB of pages, %.1f MB/s); buffer peaks %d and %d KiB of %d%n", PROCESSES,
          BATCH, micros / 1000, bytes >> 10, bytes / (double) micros,
          a.buffers().peak() >> 10, b.buffers().peak() >> 10, BUFFER_BYTES >> 10);
    }
  }

  /**
   * Counter and kfd-train alternating, each dumped at a point of its own with a compression of
   * its own; two processes share each program (digests leave pids and paths out), so eight
   * uninterrupted runs give every expected digest.
   */
  private static List<Program> programs() {
    List<Program> programs = new ArrayList<>();
    for (int i = 0; i < PROCESSES; i++) {
      String compression = i % 3 == 0 ? "zstd:1" : "none";
      String seed = "" + (100 + i % 8);
      if (i % 2 == 0) {
        programs.add(new Program("counter", List.of("--mem-mib", "2", "--steps", "40",
            "--pages-per-step", "32", "--seed", seed, "--out", "c" + i % 8 + ".out"),
            1 + i * 2, compression));
      } else {
        programs.add(new Program("kfd-train", List.of("--gpus", "1", "--vram-kib", "768",
            "--steps", "6", "--seed", seed, "--gpu-us-per-wg", "0"), 1 + i % 5, compression));
      }
    }
    return programs;
  }

  private Map<Integer, String> uninterruptedDigests(List<Program> programs) throws Exception {
    Map<List<String>, String> byArgs = new HashMap<>();
    Map<Integer, String> digests = new HashMap<>();
    Path cwd = Files.createDirectories(tmp.resolve("reference"));
    try (Node n = Scenarios.node("reference", "mi250x4")) {
      for (int i = 0; i < programs.size(); i++) {
        Program p = programs.get(i);
        digests.put(i, byArgs.computeIfAbsent(p.args(),
            args -> Scenarios.uninterrupted(n, p.workload(), args, cwd)));
      }
    }
    return digests;
  }

  private Path setOf(int index) {
    return tmp.resolve("sets/p" + index);
  }

  private static long dump(NodeService service, int pid, Path dir, String compression) {
    Response r = call(service, Request.newBuilder().setDump(DumpRequest.newBuilder().setPid(pid)
        .setDir(dir.toString()).setCompression(compression).setThreads(2)).build());
    assertTrue(r.hasDump(), "dump of " + pid + ": " + r.getError().getMessage());
    return r.getDump().getStats().getBytesWritten();
  }

  private static int restore(NodeService service, Path dir) {
    Response r = call(service, Request.newBuilder().setRestore(RestoreRequest.newBuilder()
        .setDir(dir.toString()).setThreads(2)).build());
    assertTrue(r.hasRestore(), "restore of " + dir + ": " + r.getError().getMessage());
    return r.getRestore().getPid();
  }

  /** The final response of a request (progress reports are skipped). */
  private static Response call(NodeService service, Request request) {
    Response[] last = new Response[1];
    service.handle(request, r -> {
      if (!r.hasProgress()) {
        last[0] = r;
      }
    });
    return last[0];
  }
}
