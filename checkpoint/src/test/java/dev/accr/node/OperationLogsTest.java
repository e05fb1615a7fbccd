package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.PluginContext;
import dev.accr.engine.ImageChecker;
import dev.accr.engine.ImageSet;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.KillRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreRequest;
import dev.accr.proto.RestoreStatsEntry;
import dev.accr.proto.RunRequest;
import dev.accr.workload.CounterWorkload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** dump.log, restore.log and stats-restore.img: where the node writes them, and what they say. */
class OperationLogsTest {
  /** Fails dumps late (after the images are written) while {@link #failing} is set. */
  private static final class Flaky implements AccrPlugin {
    final AtomicBoolean failing = new AtomicBoolean();

    @Override
    public String name() {
      return "flaky";
    }

    @Override
    public int apiVersion() {
      return API_VERSION;
    }

    @Override
    public void dumpDevicesLate(PluginContext ctx) {
      if (failing.get()) {
        throw AccrException.failed("flaky device lost");
      }
    }
  }

  @TempDir Path tmp;
  private final Flaky flaky = new Flaky();
  private final Registry registry =
      Registry.of(List.of(flaky), List.of(), List.of(new CounterWorkload()));
  private final Node node = new Node("logs", registry.topologies().load("cpu-only"), registry);
  private final NodeService service = new NodeService(node, () -> {});

  @AfterEach
  void close() {
    node.close();
  }

  private List<Response> handle(Request r) {
    List<Response> out = new ArrayList<>();
    service.handle(r, out::add);
    return out;
  }

  private int startCounter() {
    return handle(Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload("counter")
        .addAllArgs(List.of("--mem-mib", "1", "--steps", "1000000", "--out",
            tmp.resolve("c.out").toString())).setStepDelayMs(1)).build()).getLast().getRun()
        .getPid();
  }

  private static Request dump(int pid, Path dir, int logLevel) {
    return Request.newBuilder().setLogLevel(logLevel).setDump(DumpRequest.newBuilder()
        .setPid(pid).setDir(dir.toString()).setLeaveRunning(true)).build();
  }

  @Test
  void aDumpWritesItsLogIntoTheSetOutsideTheInventory() throws Exception {
    int pid = startCounter();
    Path set = tmp.resolve("set");
    Response reply = handle(dump(pid, set, 0)).getLast();
    assertTrue(reply.hasDump(), reply::toString);
    Path log = set.resolve("dump.log");
    assertEquals(log.toString(), reply.getDump().getLogFile());
    String text = Files.readString(log);
    assertTrue(text.matches("(?s)\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO  dump of"
        + " process " + pid + " into .*"), text);
    for (String expected : List.of("memory done in", "plugin flaky: init(DUMP)",
        "dump done in", "DEBUG", "TRACE")) {
      assertTrue(text.contains(expected), () -> expected + " in " + text);
    }
    assertTrue(ImageSet.read(set).inventory().getFilesList().stream()
        .noneMatch(f -> f.getName().equals("dump.log")), "not part of the set");
    assertTrue(ImageChecker.check(set, 1, PluginHost.of(registry.plugins())).files() > 0);
  }

  @Test
  void aFailedDumpLeavesItsLogWhereTheSetWasToBeAndALaterDumpThereReplacesIt()
      throws Exception {
    int pid = startCounter();
    Path set = tmp.resolve("set");
    flaky.failing.set(true);
    Response failed = handle(dump(pid, set, 0)).getLast();
    assertTrue(failed.hasError(), failed::toString);
    assertEquals(set.resolve("dump.log").toString(), failed.getError().getLogFile());
    assertEquals(List.of("dump.log"), names(set), "the log and nothing else");
    String text = Files.readString(set.resolve("dump.log"));
    assertTrue(text.contains("failed (exit code 1): flaky device lost"), text);
    assertTrue(text.contains("\tat dev.accr."), "with the stack trace: " + text);
    assertTrue(node.hasPid(pid), "the process runs on");

    flaky.failing.set(false);
    assertTrue(handle(dump(pid, set, 0)).getLast().hasDump());
    assertTrue(Files.readString(set.resolve("dump.log")).contains("dump done in"));
    assertFalse(Files.readString(set.resolve("dump.log")).contains("flaky device lost"));
  }

  @Test
  void aFailedDumpWritesNothingIntoADirectoryThatHoldsOtherFiles() throws Exception {
    int pid = startCounter();
    Path dir = Files.createDirectory(tmp.resolve("busy"));
    Files.writeString(dir.resolve("notes.txt"), "mine");
    Response failed = handle(dump(pid, dir, 0)).getLast();
    assertEquals(AccrException.FAILED, failed.getError().getExitCode());
    assertEquals(List.of("notes.txt"), names(dir));
    assertEquals("", failed.getError().getLogFile());
  }

  @Test
  void aRestoreWritesItsLogAndStatisticsIntoTheSetAndAFailedOneItsLog() throws Exception {
    int pid = startCounter();
    Path set = tmp.resolve("set");
    assertTrue(handle(dump(pid, set, 0)).getLast().hasDump());
    handle(Request.newBuilder().setKill(KillRequest.newBuilder().setPid(pid)).build());
    List<String> before = names(set);

    Response restored = handle(Request.newBuilder().setRestore(RestoreRequest.newBuilder()
        .setDir(set.toString())).build()).getLast();
    assertTrue(restored.hasRestore(), restored::toString);
    RestoreStatsEntry stats = EntryImageCodec.read(set.resolve("stats-restore.img"),
        ImageKind.STATS_RESTORE, ImageSet.read(set).id()).single(RestoreStatsEntry.parser());
    assertEquals(restored.getRestore().getStats(), stats);
    assertEquals(pid, stats.getPid());
    assertTrue(Files.readString(set.resolve("restore.log")).contains("restore of " + pid
        + " done in"));
    assertEquals(set.resolve("restore.log").toString(), restored.getRestore().getLogFile());
    assertTrue(ImageChecker.check(set, 1, PluginHost.of(registry.plugins())).files() > 0,
        "the set still checks");

    Response again = handle(Request.newBuilder().setRestore(RestoreRequest.newBuilder()
        .setDir(set.toString())).build()).getLast();
    assertEquals(AccrException.FAILED, again.getError().getExitCode());
    assertEquals(set.resolve("restore.log").toString(), again.getError().getLogFile());
    assertTrue(Files.readString(set.resolve("restore.log")).contains("is already taken"));
    List<String> after = new ArrayList<>(before);
    after.addAll(List.of("restore.log", "stats-restore.img"));
    assertEquals(after.stream().sorted().toList(), names(set), "no other file");
  }

  @Test
  void aClientThatAsksGetsTheLogLinesAsTheyCome() {
    int pid = startCounter();
    List<Response> out = handle(dump(pid, tmp.resolve("set"), 2));
    List<String> lines = out.stream().filter(Response::hasLog).map(r -> r.getLog().getLine())
        .toList();
    assertTrue(lines.stream().anyMatch(l -> l.contains("DEBUG dump of " + pid + ": memory done")),
        lines::toString);
    assertTrue(lines.stream().noneMatch(l -> l.contains("TRACE")), "level 2 is DEBUG");
    assertTrue(out.getLast().hasDump());
    assertTrue(handle(dump(pid, tmp.resolve("quiet"), 0)).stream().noneMatch(Response::hasLog));
  }

  private static List<String> names(Path dir) throws Exception {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
