package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.kernel.Node;
import dev.accr.kernel.NodeLimits;
import dev.accr.kernel.Registry;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.ErrorReply;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreRequest;
import dev.accr.proto.RunRequest;
import dev.accr.workload.CounterWorkload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node's limits on processes and memory, for run and restore alike. */
class NodeLimitsTest {
  @TempDir Path tmp;
  private final Registry registry =
      Registry.of(List.of(), List.of(), List.of(new CounterWorkload()));
  private final Node node = new Node("lim", registry.topologies().load("cpu-only"), registry,
      NodeLimits.defaults().withMaxProcesses(2).withMemoryBytes(64L << 20));
  private final NodeService service = new NodeService(node, () -> {});

  @AfterEach
  void close() {
    node.close();
  }

  @Test
  void aRunMappingMoreThanTheNodesMemoryIsRefusedAndLeavesNothing() {
    ErrorReply e = error(run("100")).getError();
    assertEquals(AccrException.FAILED, e.getExitCode());
    assertTrue(e.getMessage().matches("run of counter refused: it needs 100 MiB of memory, node"
        + " lim has 6\\d MiB of its 64 MiB left"), e.getMessage());
    assertEquals(1, e.getMessage().lines().count());
    assertTrue(node.processes().isEmpty(), "the refused process is gone");
  }

  @Test
  void aRunOrRestoreBeyondTheProcessCountIsRefused() throws Exception {
    int first = ok(run("8")).getRun().getPid();
    ok(run("8"));
    ErrorReply e = error(run("8")).getError();
    assertEquals(AccrException.FAILED, e.getExitCode());
    assertEquals("run of counter refused: node lim runs 2 processes, its limit", e.getMessage());

    Path set = tmp.resolve("set");
    ok(handle(Request.newBuilder().setDump(DumpRequest.newBuilder().setPid(first)
        .setDir(set.toString()).setLeaveRunning(true)).build()));
    node.kill(first);
    ok(run("8")); // the freed place is taken again
    ErrorReply refused = error(handle(Request.newBuilder().setRestore(RestoreRequest
        .newBuilder().setDir(set.toString())).build())).getError();
    assertEquals(AccrException.FAILED, refused.getExitCode());
    assertEquals("restore of process " + first + " refused: node lim runs 2 processes, its"
        + " limit", refused.getMessage());
    assertEquals(2, node.processes().size(), "the refused restore left nothing");
  }

  private List<Response> run(String memMib) {
    return handle(Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload("counter")
        .setCwd(tmp.toString()).setStepDelayMs(20).addAllArgs(List.of("--mem-mib", memMib,
            "--steps", "1000000"))).build());
  }

  private List<Response> handle(Request r) {
    List<Response> out = new ArrayList<>();
    service.handle(r, out::add);
    return out;
  }

  private static Response ok(List<Response> out) {
    Response last = out.getLast();
    assertTrue(!last.hasError(), () -> "expected success, got " + last.getError().getMessage());
    return last;
  }

  private static Response error(List<Response> out) {
    Response last = out.getLast();
    assertTrue(last.hasError(), () -> "expected an error reply, got " + last);
    return last;
  }
}
