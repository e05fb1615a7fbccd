package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.ErrorReply;
import dev.accr.proto.KillRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreRequest;
import dev.accr.proto.RunRequest;
import dev.accr.workload.CounterWorkload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Remote callers name paths inside the node's image root only; local callers name any. */
class NodeServiceConfinementTest {
  private static final Caller REMOTE = new Caller(true, "10.0.0.1:5000", "client");

  @TempDir Path tmp;
  private final Registry registry =
      Registry.of(List.of(), List.of(), List.of(new CounterWorkload()));
  private final Node node = new Node("svc", registry.topologies().load("cpu-only"), registry);
  private ImageRoot root;
  private NodeService service;
  private Path outside;

  @BeforeEach
  void setUp() throws Exception {
    root = ImageRoot.open(tmp.resolve("images/svc"));
    service = new NodeService(node, root, () -> {});
    outside = Files.createDirectory(tmp.resolve("outside")).toRealPath();
  }

  @AfterEach
  void close() {
    node.close();
  }

  private Response call(Request r, Caller caller) {
    List<Response> out = new ArrayList<>();
    service.handle(r, caller, out::add);
    return out.getLast();
  }

  private ErrorReply refused(Request r, Caller caller, String path) {
    Response last = call(r, caller);
    assertTrue(last.hasError(), () -> "expected an error reply, got " + last);
    ErrorReply e = last.getError();
    assertEquals(AccrException.USAGE, e.getExitCode(), e.getMessage());
    assertTrue(e.getMessage().contains(caller.remote() ? root.hide(path) : path), e.getMessage());
    assertTrue(e.getMessage().contains("image root"), e.getMessage());
    if (caller.remote() && !path.startsWith(root.path().toString())) {
      assertFalse(e.getMessage().contains(root.path().toString()), "no absolute path of the node: "
          + e.getMessage());
    }
    return e;
  }

  private static Request run(String cwd, String... args) {
    return Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload("counter")
        .addAllArgs(List.of("--mem-mib", "1", "--steps", "1000000")).addAllArgs(List.of(args))
        .setStepDelayMs(1).setCwd(cwd)).build();
  }

  private int start(Caller caller, String cwd, String... args) {
    Response r = call(run(cwd, args), caller);
    assertTrue(r.hasRun(), r::toString);
    return r.getRun().getPid();
  }

  private static Request dump(int pid, String dir) {
    return Request.newBuilder().setDump(DumpRequest.newBuilder().setPid(pid).setDir(dir)).build();
  }

  private static Request restore(String dir) {
    return Request.newBuilder().setRestore(RestoreRequest.newBuilder().setDir(dir)).build();
  }

  private void kill(int pid) {
    assertTrue(call(Request.newBuilder().setKill(KillRequest.newBuilder().setPid(pid)).build(),
        Caller.LOCAL).hasKill());
  }

  @Test
  void aRemoteDumpOutsideTheRootIsRefusedAndTheProcessRunsOn() {
    int pid = start(REMOTE, "");
    Path target = outside.resolve("set");
    refused(dump(pid, target.toString()), REMOTE, target.toString());
    refused(dump(pid, "../escape"), REMOTE, "../escape");
    assertFalse(Files.exists(target));
    assertFalse(Files.exists(root.path().resolveSibling("escape")));
    assertEquals(SimProcess.State.RUNNING, node.process(pid).state());
    kill(pid);
  }

  @Test
  void aRemoteDumpIntoTheRootItselfIsRefused() {
    // Working outside, so that the root stays empty and a dump could replace it.
    int pid = start(Caller.LOCAL, outside.toString());
    for (String dir : List.of(".", "", root.path().toString(), "sets/..")) {
      refused(dump(pid, dir), REMOTE, dir);
    }
    assertTrue(Files.isDirectory(root.path()));
    assertFalse(Files.exists(root.path().resolve("inventory.img")), "the root is no image set");
    assertEquals(1, root.path().getParent().toFile().list().length, "nothing next to the root");
    assertEquals(SimProcess.State.RUNNING, node.process(pid).state());
    kill(pid);
  }

  @Test
  void aRemoteRunWritesItsOutputInsideTheRootAndDumpsAndRestoresThere() throws Exception {
    int pid = start(REMOTE, "", "--out", "c.out");
    assertTrue(Files.exists(root.path().resolve("c.out")), "output file in the root");
    Files.createDirectory(root.path().resolve("sets"));
    Response dumped = call(dump(pid, "sets/one"), REMOTE);
    assertTrue(dumped.hasDump(), dumped::toString);
    assertEquals("sets/one", dumped.getDump().getDir(), "shown relative to the root");
    assertTrue(Files.exists(root.path().resolve("sets/one/inventory.img")));
    assertFalse(node.hasPid(pid), "dumped without --leave-running");

    Response restored = call(restore(root.path() + "/sets/one"), REMOTE);
    assertTrue(restored.hasRestore(), restored::toString);
    assertEquals(pid, restored.getRestore().getPid());
    kill(pid);
  }

  @Test
  void aRemoteRestoreFromOutsideTheRootIsRefused() {
    int pid = start(Caller.LOCAL, "", "--out", outside.resolve("c.out").toString());
    Path set = outside.resolve("set");
    assertTrue(call(dump(pid, set.toString()), Caller.LOCAL).hasDump());
    refused(restore(set.toString()), REMOTE, set.toString());
    assertFalse(node.hasPid(pid));
  }

  @Test
  void aRemoteRestoreOfAnImageThatReopensAFileOutsideTheRootIsRefused() {
    Path out = outside.resolve("c.out");
    int pid = start(Caller.LOCAL, root.path().toString(), "--out", out.toString());
    assertTrue(call(dump(pid, root.path().resolve("set").toString()), Caller.LOCAL).hasDump());
    ErrorReply e = refused(restore("set"), REMOTE, out.toString());
    assertTrue(e.getMessage().startsWith("restore set: file "), e.getMessage());
    assertFalse(node.hasPid(pid), "nothing restored");
  }

  @Test
  void aRemoteRestoreOfAnImageWorkingOutsideTheRootIsRefused() {
    int pid = start(Caller.LOCAL, outside.toString(), "--out", root.path() + "/c.out");
    assertTrue(call(dump(pid, root.path().resolve("set").toString()), Caller.LOCAL).hasDump());
    ErrorReply e = refused(restore("set"), REMOTE, outside.toString());
    assertTrue(e.getMessage().startsWith("restore set: working directory of process " + pid),
        e.getMessage());
    assertFalse(node.hasPid(pid), "nothing restored");
  }

  @Test
  void aRemoteRestoreOfASetDirectoryLinkedOutOfTheRootIsRefused() throws Exception {
    int pid = start(Caller.LOCAL, root.path().toString(), "--out", root.path() + "/c.out");
    Path set = outside.resolve("set");
    assertTrue(call(dump(pid, set.toString()), Caller.LOCAL).hasDump());
    Files.createSymbolicLink(root.path().resolve("link"), set);
    refused(restore("link"), REMOTE, "link");
    assertFalse(node.hasPid(pid), "nothing restored");
  }

  @Test
  void anImageFileThatIsASymlinkIsRefusedAsCorruptForEveryCaller() throws Exception {
    int pid = start(Caller.LOCAL, root.path().toString(), "--out", root.path() + "/c.out");
    Path set = root.path().resolve("set");
    assertTrue(call(dump(pid, set.toString()), Caller.LOCAL).hasDump());
    Path core = set.resolve("core-" + pid + ".img");
    Path copy = Files.copy(core, outside.resolve(core.getFileName()));
    Files.delete(core);
    Files.createSymbolicLink(core, copy); // same bytes, but the file now lives elsewhere
    for (Caller caller : List.of(Caller.LOCAL, REMOTE)) {
      Response r = call(restore(caller.remote() ? "set" : set.toString()), caller);
      assertTrue(r.hasError(), r::toString);
      assertEquals(AccrException.CORRUPT, r.getError().getExitCode(), r.getError().getMessage());
      assertTrue(r.getError().getMessage().contains("core-" + pid + ".img")
          && r.getError().getMessage().contains("symbolic link"), r.getError().getMessage());
      assertFalse(node.hasPid(pid), "nothing restored");
    }
  }

  @Test
  void remoteCallersSeeNoAbsolutePathOfTheNodeInErrorsOrInPs() throws Exception {
    Path out = outside.resolve("c.out");
    int local = start(Caller.LOCAL, "", "--out", out.toString());
    int remote = start(REMOTE, "", "--out", "mine.out");
    Response ps = call(Request.newBuilder().setPs(dev.accr.proto.PsRequest.getDefaultInstance())
        .build(), REMOTE);
    String shown = ps.getPs().toString();
    assertFalse(shown.contains(outside.toString()) || shown.contains(root.path().toString()),
        shown);
    assertTrue(shown.contains("(path outside the image root)"), shown);
    assertTrue(shown.contains("mine.out"), shown);
    Response localPs = call(Request.newBuilder().setPs(dev.accr.proto.PsRequest
        .getDefaultInstance()).build(), Caller.LOCAL);
    assertTrue(localPs.getPs().toString().contains(out.toString()), "local callers see all");

    Path set = root.path().resolve("set");
    assertTrue(call(dump(remote, "set"), REMOTE).hasDump());
    Files.write(set.resolve("core-" + remote + ".img"), new byte[] {1, 2, 3});
    Response broken = call(restore("set"), REMOTE);
    String message = broken.getError().getMessage();
    assertEquals(AccrException.CORRUPT, broken.getError().getExitCode(), message);
    assertTrue(message.contains("set/"), message);
    assertFalse(message.contains(root.path().toString()), message);
    kill(local);
  }

  @Test
  void aRemoteRunWithAnOutputFileOutsideTheRootIsRefused() {
    Path out = outside.resolve("c.out");
    refused(run("", "--out", out.toString()), REMOTE, out.toString());
    refused(run("", "--out=../../c.out"), REMOTE, "../../c.out");
    Response cwd = call(Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload("counter")
        .setCwd(outside.toString())).build(), REMOTE);
    assertTrue(cwd.hasError() && cwd.getError().getExitCode() == AccrException.USAGE,
        cwd::toString);
    assertFalse(Files.exists(out));
    assertTrue(node.processes().isEmpty());
  }

  @Test
  void aLocalCallerNamesAnyPath() {
    Path out = outside.resolve("c.out");
    int pid = start(Caller.LOCAL, "", "--out", out.toString());
    assertTrue(Files.exists(out));
    Response dumped = call(dump(pid, outside.resolve("set").toString()), Caller.LOCAL);
    assertTrue(dumped.hasDump(), dumped::toString);
    assertEquals(outside.resolve("set").toString(), dumped.getDump().getDir());
    Response restored = call(restore(outside.resolve("set").toString()), Caller.LOCAL);
    assertTrue(restored.hasRestore(), restored::toString);
    kill(pid);
  }

  @Test
  void withoutAnImageRootRemoteCallersNameNoPath() {
    NodeService bare = new NodeService(node, () -> {});
    List<Response> out = new ArrayList<>();
    bare.handle(run(""), REMOTE, out::add);
    assertEquals(AccrException.USAGE, out.getLast().getError().getExitCode());
    assertTrue(node.processes().isEmpty());
  }

  @Test
  void aSetSentForAConfinedClientStaysInsideTheImageRootOfALocalPeer() {
    String target = outside.resolve("set").toString();
    List<Response> out = new ArrayList<>();
    service.receive(dev.accr.proto.ReceiveSetRequest.newBuilder().setDir(target)
        .setConfined(true).setCheckpointId(com.google.protobuf.ByteString.copyFrom(new byte[16]))
        .build(), Caller.LOCAL, new java.io.ByteArrayInputStream(new byte[0]), out::add);
    Response last = out.getLast();
    assertTrue(last.hasError(), () -> "expected an error reply, got " + last);
    assertEquals(AccrException.USAGE, last.getError().getExitCode(), last.toString());
    assertTrue(last.getError().getMessage().contains("image root"), last.toString());
    assertFalse(Files.exists(outside.resolve("set")));
  }
}
