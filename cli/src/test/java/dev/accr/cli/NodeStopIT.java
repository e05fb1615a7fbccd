package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.image.PartialSets;
import dev.accr.image.ProgressListener;
import dev.accr.proto.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code accr node stop} while a dump runs (slowed down by the fault-injection hook): it waits
 * for the dump and says so, or with {@code --force} cancels it, leaving no set and no leftover.
 */
class NodeStopIT {
  @TempDir Path tmp;
  private Path run;
  private Launcher accr;

  @BeforeEach
  void runDirectory() throws Exception {
    run = Files.createDirectory(tmp.resolve("run"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    accr = new Launcher(run, tmp);
  }

  /** Starts a dump on a node whose every write step takes {@code delayMs}; returns its reply. */
  private CompletableFuture<Response> slowDump(NodeDaemon node, Path set) throws Exception {
    int pid = node.startCounter(tmp.resolve("c.out"));
    CompletableFuture<Response> reply = CompletableFuture.supplyAsync(() -> node.client()
        .call(NodeDaemon.dump(pid, set, false), ProgressListener.NONE));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (PartialSets.find(set.getParent()).isEmpty()) {
      assertTrue(System.nanoTime() < deadline, "the dump did not start");
      Thread.sleep(10);
    }
    return reply;
  }

  private List<String> names() throws Exception {
    try (Stream<Path> s = Files.list(tmp.resolve("images"))) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }

  @Test
  void stopWaitsForARunningDump() throws Exception {
    NodeDaemon node = NodeDaemon.start("w", "-Daccr.fault.stepDelayMs=150", run, tmp);
    Path set = Files.createDirectory(tmp.resolve("images")).resolve("set");
    CompletableFuture<Response> dump = slowDump(node, set);

    String out = accr.ok("node", "stop", "--name", "w");
    assertTrue(out.matches("(?s)waiting for dump of process \\d+ into " + set
        + "\nnode w stopped\n"), out);
    assertTrue(dump.get(30, TimeUnit.SECONDS).hasDump(), "the dump completed");
    assertTrue(CliRun.accr("check", set.toString()).out().contains("OK"));
    assertTrue(node.process().waitFor(30, TimeUnit.SECONDS));
  }

  @Test
  void stopForceCancelsARunningDumpLeavingNothing() throws Exception {
    NodeDaemon node = NodeDaemon.start("f", "-Daccr.fault.stepDelayMs=1000", run, tmp);
    Path set = Files.createDirectory(tmp.resolve("images")).resolve("set");
    CompletableFuture<Response> dump = slowDump(node, set);

    Launcher.Result stop = accr.run("node", "stop", "--name", "f", "--force");
    assertEquals(0, stop.exitCode(), stop.err());
    assertTrue(stop.out().startsWith("cancelling dump of process "), stop.out());
    Throwable failed = dump.handle((r, e) -> e).get(30, TimeUnit.SECONDS);
    assertTrue(failed != null && failed.getCause() instanceof AccrException a
        && a.exitCode() == AccrException.FAILED
        && a.getMessage().endsWith("cancelled: node f is stopping"), String.valueOf(failed));
    assertEquals(List.of("set"), names(), "no partial directory");
    assertEquals(List.of("dump.log"), List.of(set.toFile().list()), "no set: the dump's log");
    assertTrue(node.process().waitFor(30, TimeUnit.SECONDS));
  }
}
