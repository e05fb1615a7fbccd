package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.ProcessView;
import dev.accr.api.Workload;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.ErrorReply;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreRequest;
import dev.accr.proto.RunRequest;
import dev.accr.proto.WaitRequest;
import dev.accr.workload.CounterWorkload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the node service turns failures into error replies. */
class NodeServiceTest {
  /** A workload whose start fails with an error that is not an AccrException. */
  private static final class Broken implements Workload {
    @Override
    public String name() {
      return "broken";
    }

    @Override
    public String description() {
      return "fails to start";
    }

    @Override
    public String usage() {
      return "";
    }

    @Override
    public void exec(ProcessView process, List<String> args) {
      throw new IllegalStateException("boom");
    }

    @Override
    public boolean step(ProcessView process) {
      return false;
    }
  }

  @TempDir Path tmp;
  private final Registry registry =
      Registry.of(List.of(), List.of(), List.of(new CounterWorkload(), new Broken()));
  private final Node node = new Node("svc", registry.topologies().load("cpu-only"), registry);
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

  private ErrorReply error(Request r) {
    List<Response> out = handle(r);
    Response last = out.getLast();
    assertTrue(last.hasError(), () -> "expected an error reply, got " + last);
    return last.getError();
  }

  @Test
  void anEmptyRequestIsAUsageError() {
    ErrorReply e = error(Request.getDefaultInstance());
    assertEquals(AccrException.USAGE, e.getExitCode());
    assertEquals("empty request", e.getMessage());
  }

  @Test
  void anUnknownProcessIsNotFound() {
    ErrorReply e = error(Request.newBuilder().setWait(WaitRequest.newBuilder().setPid(4242))
        .build());
    assertEquals(AccrException.NOT_FOUND, e.getExitCode());
    assertEquals("no process 4242 on node svc", e.getMessage());
  }

  @Test
  void anUnknownWorkloadIsAUsageErrorListingTheInstalledOnes() {
    ErrorReply e = error(Request.newBuilder().setRun(RunRequest.newBuilder()
        .setWorkload("nope")).build());
    assertEquals(AccrException.USAGE, e.getExitCode());
    assertEquals("unknown workload 'nope' (installed: broken, counter)", e.getMessage());
  }

  @Test
  void anUnexpectedExceptionFailsWithItsTypeMessageAndTrace() {
    ErrorReply e = error(Request.newBuilder().setRun(RunRequest.newBuilder()
        .setWorkload("broken")).build());
    assertEquals(AccrException.FAILED, e.getExitCode());
    assertEquals("IllegalStateException: boom", e.getMessage());
    assertTrue(e.getStackTrace().contains("Broken.exec"), e.getStackTrace());
    assertTrue(node.processes().isEmpty(), "a process that failed to start is gone");
  }

  @Test
  void aRemoteCallerGetsTheMessageButNotTheNodesStackTrace() {
    NodeService confined = new NodeService(node, ImageRoot.open(tmp.resolve("root")), () -> {});
    List<Response> out = new ArrayList<>();
    confined.handle(Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload("broken"))
        .build(), new Caller(true, "192.0.2.1:5000", "client"), out::add);
    ErrorReply e = out.getLast().getError();
    assertEquals(AccrException.FAILED, e.getExitCode());
    assertEquals("IllegalStateException: boom", e.getMessage());
    assertEquals("", e.getStackTrace());
  }

  @Test
  void aBadPluginOptionOnDumpIsAUsageErrorAndTheProcessRunsOn() {
    int pid = handle(Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload("counter")
        .addAllArgs(List.of("--mem-mib", "1", "--steps", "1000000", "--out",
            tmp.resolve("c.out").toString())).setStepDelayMs(1)).build()).getLast().getRun()
        .getPid();
    ErrorReply e = error(Request.newBuilder().setDump(DumpRequest.newBuilder().setPid(pid)
        .setDir(tmp.resolve("set").toString()).putPluginOptions("kfd.vram-copy", "dma")).build());
    assertEquals(AccrException.USAGE, e.getExitCode());
    assertTrue(e.getMessage().contains("no plugin 'kfd' is installed (installed: none)"),
        e.getMessage());
    assertFalse(tmp.resolve("set").toFile().exists());
    assertTrue(node.hasPid(pid));
  }

  @Test
  void aMissingImageSetIsAnErrorReplyNamingIt() {
    ErrorReply e = error(Request.newBuilder().setRestore(RestoreRequest.newBuilder()
        .setDir(tmp.resolve("none").toString())).build());
    assertTrue(e.getExitCode() == AccrException.CORRUPT || e.getExitCode() == AccrException.FAILED
        || e.getExitCode() == AccrException.NOT_FOUND, e.toString());
    assertTrue(e.getMessage().contains(tmp.resolve("none").toString()), e.getMessage());
  }
}
