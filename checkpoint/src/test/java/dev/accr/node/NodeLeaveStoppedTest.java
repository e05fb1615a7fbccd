package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.KillRequest;
import dev.accr.proto.ProcessInfo;
import dev.accr.proto.PsRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RunRequest;
import dev.accr.proto.ThawRequest;
import dev.accr.workload.CounterWorkload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dump --leave-stopped}: the process stays frozen after its dump, shows as stopped,
 * can be dumped again and stays stopped, runs on after a thaw, and a kill ends it; a dump of a
 * process that has exited finds no such process.
 */
class NodeLeaveStoppedTest {
  @TempDir Path tmp;
  private final Registry registry =
      Registry.of(List.of(), List.of(), List.of(new CounterWorkload()));
  private final Node node = new Node("stop", registry.topologies().load("cpu-only"), registry);
  private final NodeService service = new NodeService(node, () -> {});

  @AfterEach
  void close() {
    node.close();
  }

  private Response handle(Request r) {
    List<Response> out = new ArrayList<>();
    service.handle(r, out::add);
    return out.getLast();
  }

  private Path out;

  private int run(long steps, int delayMs) {
    out = tmp.resolve("c" + System.nanoTime() + ".out");
    return handle(Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload("counter")
        .addAllArgs(List.of("--mem-mib", "1", "--steps", "" + steps, "--out",
            out.toString())).setStepDelayMs(delayMs)).build()).getRun().getPid();
  }

  private Response dump(int pid, String dir, boolean leaveStopped) {
    return handle(Request.newBuilder().setDump(DumpRequest.newBuilder().setPid(pid)
        .setDir(tmp.resolve(dir).toString()).setThreads(1).setLeaveStopped(leaveStopped)).build());
  }

  private String state(int pid) {
    return handle(Request.newBuilder().setPs(PsRequest.getDefaultInstance()).build()).getPs()
        .getProcessesList().stream().filter(p -> p.getPid() == pid).map(ProcessInfo::getState)
        .findFirst().orElse("gone");
  }

  /** Steps the last process run has logged. */
  private long lines() throws IOException {
    return Files.exists(out) ? Files.readAllLines(out).size() : 0;
  }

  private void awaitLinesBeyond(long n) throws Exception {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (lines() <= n) {
      assertTrue(System.nanoTime() < deadline, "the process did not step");
      Thread.sleep(5);
    }
  }

  @Test
  void aProcessLeftStoppedStaysFrozenUntilThawedAndAKillEndsIt() throws Exception {
    int pid = run(1_000_000, 2);
    awaitLinesBeyond(0);
    assertTrue(dump(pid, "first", true).hasDump());
    assertEquals("stopped", state(pid));
    long frozenAt = lines();
    Thread.sleep(100);
    assertEquals(frozenAt, lines(), "a stopped process takes no step");

    assertTrue(dump(pid, "again", false).hasDump());
    assertEquals("gone", state(pid), "a dump without --leave-stopped ends it as usual");

    int next = run(1_000_000, 2);
    awaitLinesBeyond(0);
    assertTrue(dump(next, "second", true).hasDump());
    assertTrue(dump(next, "third", true).hasDump(), "a stopped process can be dumped again");
    assertEquals("stopped", state(next));
    long before = lines();
    assertTrue(handle(Request.newBuilder().setThaw(ThawRequest.newBuilder().setPid(next))
        .build()).hasThaw());
    awaitLinesBeyond(before);
    assertEquals("running", state(next));
    Response again = handle(Request.newBuilder().setThaw(ThawRequest.newBuilder().setPid(next))
        .build());
    assertEquals(AccrException.FAILED, again.getError().getExitCode(), again.toString());
    assertTrue(again.getError().getMessage().contains("is not stopped"), again.toString());

    assertTrue(dump(next, "fourth", true).hasDump());
    assertTrue(handle(Request.newBuilder().setKill(KillRequest.newBuilder().setPid(next))
        .build()).hasKill());
    assertEquals("gone", state(next));
  }

  @Test
  void aDumpOfAProcessThatHasExitedFindsNoSuchProcess() throws Exception {
    int pid = run(1, 0);
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!state(pid).equals("exited")) {
      assertTrue(System.nanoTime() < deadline, "the process did not exit: " + state(pid));
      Thread.sleep(5);
    }
    Response r = dump(pid, "late", false);
    assertEquals(AccrException.NOT_FOUND, r.getError().getExitCode(), r.toString());
    assertTrue(r.getError().getMessage().contains("has exited"), r.toString());
    assertFalse(Files.exists(tmp.resolve("late")));
  }
}
