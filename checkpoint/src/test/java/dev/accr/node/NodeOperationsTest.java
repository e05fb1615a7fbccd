package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.engine.ImageChecker;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreRequest;
import dev.accr.proto.RunRequest;
import dev.accr.proto.ShutdownRequest;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operations on one node at the same time: a second dump of a process, or restore into a pid,
 * is refused at once; stopping waits for running operations, or cancels them.
 */
class NodeOperationsTest {
  private static final List<String> COUNTER = List.of("--mem-mib", "16", "--steps", "800",
      "--seed", "3");

  @TempDir Path tmp;
  private final Node node = Scenarios.node("ops");
  private final AtomicInteger shutdowns = new AtomicInteger();
  private final NodeService service = new NodeService(node, shutdowns::incrementAndGet);

  @AfterEach
  void close() {
    node.close();
  }

  /** A request in flight, held at its first progress report until released. */
  private final class Held {
    final CountDownLatch reported = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final CompletableFuture<Response> last = new CompletableFuture<>();

    Held(Request r) {
      Thread.ofPlatform().start(() -> service.handle(r, response -> {
        if (response.hasProgress()) {
          if (reported.getCount() > 0) {
            reported.countDown();
            await(release);
          }
        } else {
          last.complete(response);
          reported.countDown(); // ended before any progress: the test says how, not a timeout
        }
      }));
      await(reported);
      if (last.isDone()) {
        throw new AssertionError("the request ended before it could be held: " + last.join());
      }
    }

    Response finish() throws Exception {
      release.countDown();
      return last.get(60, TimeUnit.SECONDS);
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      assertTrue(latch.await(60, TimeUnit.SECONDS), "timed out");
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private Response call(Request r) {
    Response[] last = new Response[1];
    service.handle(r, response -> last[0] = response);
    return last[0];
  }

  /** A counter of 800 steps of 2 ms: at least 1.6 s, so it runs while dumped. */
  /**
   * A counter that has written some of its memory, so that its dumps store pages and their
   * restores report progress (a request is held in its first progress report).
   */
  private int startCounter(String out) throws InterruptedException {
    int pid = call(Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload("counter")
        .addAllArgs(COUNTER).addArgs("--out").addArgs(tmp.resolve(out).toString())
        .setStepDelayMs(2)).build()).getRun().getPid();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (node.process(pid).memory().residentPages() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertTrue(node.process(pid).memory().residentPages() > 0, "the counter wrote memory");
    return pid;
  }

  private static Request dump(int pid, Path dir, boolean leaveRunning) {
    return Request.newBuilder().setDump(DumpRequest.newBuilder().setPid(pid)
        .setDir(dir.toString()).setLeaveRunning(leaveRunning).setThreads(1)).build();
  }

  private static Request restore(Path dir) {
    return Request.newBuilder().setRestore(RestoreRequest.newBuilder().setDir(dir.toString()))
        .build();
  }

  private static Request shutdown(boolean force) {
    return Request.newBuilder().setShutdown(ShutdownRequest.newBuilder().setForce(force)).build();
  }

  private static void assertRefused(Response r, String message) {
    assertTrue(r.hasError(), () -> "expected a refusal, got " + r);
    assertEquals(AccrException.FAILED, r.getError().getExitCode());
    assertEquals(message, r.getError().getMessage());
  }

  private List<String> names(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aSecondDumpOfAProcessBeingDumpedIsRefusedAtOnce() throws Exception {
    int pid = startCounter("a.out");
    Held first = new Held(dump(pid, tmp.resolve("first"), true));
    assertRefused(call(dump(pid, tmp.resolve("second"), true)),
        "process " + pid + " is already being dumped");
    assertFalse(Files.exists(tmp.resolve("second")));

    assertTrue(first.finish().hasDump());
    assertTrue(ImageChecker.check(tmp.resolve("first"), 1, Scenarios.plugins(node)).files() > 0);
    // Once the first has ended the process may be dumped again.
    assertTrue(call(dump(pid, tmp.resolve("again"), true)).hasDump());
  }

  @Test
  void aRestoreIntoAPidBeingRestoredIsRefusedAndSoIsADumpOfIt() throws Exception {
    int pid = startCounter("b.out");
    assertTrue(call(dump(pid, tmp.resolve("set"), false)).hasDump());
    assertFalse(node.hasPid(pid));

    Held first = new Held(restore(tmp.resolve("set")));
    assertRefused(call(restore(tmp.resolve("set"))),
        "process " + pid + " is already being restored");
    assertRefused(call(dump(pid, tmp.resolve("during"), true)),
        "process " + pid + " is already being restored");

    Response restored = first.finish();
    assertTrue(restored.hasRestore(), restored::toString);
    assertEquals(pid, restored.getRestore().getPid());
    assertTrue(node.hasPid(pid));
  }

  @Test
  void stoppingWaitsForARunningDumpAndRefusesNewOnes() throws Exception {
    int pid = startCounter("c.out");
    int other = startCounter("d.out");
    Held dumping = new Held(dump(pid, tmp.resolve("set"), true));
    Response stop = call(shutdown(false));
    assertEquals(List.of("dump of process " + pid + " into " + tmp.resolve("set")),
        stop.getShutdown().getWaitingForList());
    assertRefused(call(dump(other, tmp.resolve("late"), true)), "node ops is stopping: dump of"
        + " process " + other + " into " + tmp.resolve("late") + " refused");
    assertEquals(0, shutdowns.get(), "the node stops only once the dump has ended");

    assertTrue(dumping.finish().hasDump());
    assertTrue(ImageChecker.check(tmp.resolve("set"), 1, Scenarios.plugins(node)).files() > 0);
    service.operations().awaitIdle();
    assertStopsOnce();
  }

  @Test
  void aForcedStopCancelsTheDumpWhichLeavesTheProcessAsItWasAndNoSet() throws Exception {
    int pid = startCounter("e.out");
    Held dumping = new Held(dump(pid, tmp.resolve("set"), false));
    Response stop = call(shutdown(true));
    assertEquals(List.of("dump of process " + pid + " into " + tmp.resolve("set")),
        stop.getShutdown().getWaitingForList());

    Response cancelled = dumping.finish();
    assertRefused(cancelled, "dump of process " + pid + " into " + tmp.resolve("set")
        + " cancelled: node ops is stopping");
    assertStopsOnce();
    assertEquals(List.of("e.out", "set"), names(tmp), "no partial directory");
    assertEquals(List.of("dump.log"), names(tmp.resolve("set")), "no image set: the dump's log");
    assertTrue(Files.readString(tmp.resolve("set/dump.log")).contains("node ops is stopping"));

    // Thawed and running on: it ends as a run that was never dumped ends.
    SimProcess p = node.process(pid);
    assertEquals(SimProcess.State.RUNNING, p.state());
    try (Node reference = Scenarios.node("ref")) {
      List<String> args = new ArrayList<>(COUNTER);
      args.addAll(List.of("--out", tmp.resolve("ref.out").toString()));
      assertEquals(Scenarios.uninterrupted(reference, "counter", args, tmp),
          node.awaitExit(pid));
    }
  }

  @Test
  void aForcedStopCancelsARestoreWhichLeavesNothing() throws Exception {
    int pid = startCounter("f.out");
    assertTrue(call(dump(pid, tmp.resolve("set"), false)).hasDump());
    Held restoring = new Held(restore(tmp.resolve("set")));
    assertEquals(List.of("restore of process " + pid + " from " + tmp.resolve("set")),
        call(shutdown(true)).getShutdown().getWaitingForList());
    Response cancelled = restoring.finish();
    assertTrue(cancelled.hasError(), cancelled::toString);
    assertTrue(cancelled.getError().getMessage().endsWith("cancelled: node ops is stopping"),
        cancelled.getError().getMessage());
    assertFalse(node.hasPid(pid));
    assertEquals(0, node.memory().residentPages(), "no memory held");
    assertStopsOnce();
  }

  private void assertStopsOnce() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (shutdowns.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    call(shutdown(false)); // asking again changes nothing
    Thread.sleep(50);
    assertEquals(1, shutdowns.get());
  }
}
