package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.image.ProgressListener;
import dev.accr.proto.PingRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RunRequest;
import dev.accr.proto.WaitRequest;
import dev.accr.workload.CounterWorkload;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A client against a node server on a temporary UNIX socket, in this JVM. */
class NodeClientTest {
  private Path runDir;
  private Node node;
  private NodeServer server;
  private NodeClient client;

  @BeforeEach
  void start() throws Exception {
    // Short path: UNIX socket paths are limited to about 100 bytes.
    runDir = Files.createTempDirectory(Path.of("/tmp"), "accr-nc-");
    Registry registry = Registry.of(List.of(), List.of(), List.of(new CounterWorkload()));
    node = new Node("nc", registry.topologies().load("cpu-only"), registry);
    RunDirectory run = new RunDirectory(runDir);
    server = NodeServer.bind(new NodeService(node, () -> {}), run.socket("nc"), null);
    server.start();
    client = NodeClient.of("nc", run);
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    node.close();
    Files.deleteIfExists(runDir.resolve("nc.sock"));
    Files.deleteIfExists(runDir);
  }

  @Test
  void aRequestGetsItsReply() {
    Response r = client.call(Request.newBuilder().setPing(PingRequest.getDefaultInstance())
        .build(), ProgressListener.NONE);
    assertEquals("nc", r.getPing().getName());
    assertEquals("cpu-only", r.getPing().getTopology().getName());
    assertTrue(NodeClient.isAlive(runDir.resolve("nc.sock")));
  }

  @Test
  void aProcessRunsAndItsDigestComesBack() throws Exception {
    Path out = Files.createTempFile(runDir, "c", ".out");
    int pid = client.call(Request.newBuilder().setRun(RunRequest.newBuilder()
        .setWorkload("counter").addAllArgs(List.of("--mem-mib", "1", "--steps", "5", "--out",
            out.toString()))).build(), ProgressListener.NONE).getRun().getPid();
    String digest = client.call(Request.newBuilder().setWait(WaitRequest.newBuilder()
        .setPid(pid)).build(), ProgressListener.NONE).getWait().getDigest();
    assertEquals(64, digest.length(), digest);
    for (int i = 0; i < 200 && node.hasPid(pid); i++) {
      Thread.sleep(10); // the node reaps the zombie once the reply is written
    }
    assertFalse(node.hasPid(pid), "reaped once the digest reached the client");
    Files.delete(out);
  }

  @Test
  void anErrorReplyIsThrownWithTheNodesExitCodeAndTrace() {
    NodeClient.RemoteException e = assertThrows(NodeClient.RemoteException.class,
        () -> client.call(Request.newBuilder().setWait(WaitRequest.newBuilder().setPid(9999))
            .build(), ProgressListener.NONE));
    assertEquals(AccrException.NOT_FOUND, e.exitCode());
    assertEquals("no process 9999 on node nc", e.getMessage());
    assertTrue(e.remoteTrace().contains("Node.process"), e.remoteTrace());
  }

  @Test
  void aNodeThatIsGoneIsNotFound() {
    server.close();
    AccrException e = assertThrows(AccrException.class, () -> client.call(Request.newBuilder()
        .setPing(PingRequest.getDefaultInstance()).build(), ProgressListener.NONE));
    assertEquals(AccrException.NOT_FOUND, e.exitCode());
    assertTrue(e.getMessage().startsWith("node nc does not answer"), e.getMessage());
    assertFalse(NodeClient.isAlive(runDir.resolve("nc.sock")));
    AccrException unknown = assertThrows(AccrException.class,
        () -> NodeClient.of("nc", new RunDirectory(runDir)));
    assertEquals(AccrException.NOT_FOUND, unknown.exitCode());
  }

  /** A "node" that reads the request and ends the connection with {@code ending}. */
  private interface Ending {
    void end(Socket s) throws IOException;
  }

  private AccrException callLosing(Ending ending) throws Exception {
    try (ServerSocket fake = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Thread t = Thread.ofVirtual().start(() -> {
        try (Socket s = fake.accept()) {
          assertTrue(Request.parseDelimitedFrom(s.getInputStream()).hasPing());
          ending.end(s);
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      AccrException e = assertThrows(AccrException.class, () -> NodeClient.of("127.0.0.1:"
          + fake.getLocalPort(), null).call(Request.newBuilder().setPing(
              PingRequest.getDefaultInstance()).build(), ProgressListener.NONE));
      t.join();
      return e;
    }
  }

  @Test
  void aConnectionLostAfterTheRequestWasSentIsAFailureNotAMissingNode() throws Exception {
    AccrException reset = callLosing(s -> {
      s.setSoLinger(true, 0); // a reset, as a node that dies mid-answer gives
      s.close();
    });
    assertEquals(AccrException.FAILED, reset.exitCode(), reset.getMessage());
    assertTrue(reset.getMessage().startsWith("lost the connection to node 127.0.0.1:"),
        reset.getMessage());
    AccrException cut = callLosing(s -> {
      OutputStream out = s.getOutputStream();
      out.write(new byte[] {100, 1, 2}); // a response of 100 bytes, cut after 2
      out.flush();
    });
    assertEquals(AccrException.FAILED, cut.exitCode(), cut.getMessage());
    assertTrue(cut.getMessage().startsWith("lost the connection to node 127.0.0.1:"),
        cut.getMessage());
    AccrException silent = callLosing(s -> {});
    assertEquals(AccrException.FAILED, silent.exitCode(), silent.getMessage());
    assertTrue(silent.getMessage().contains("closed the connection without an answer"),
        silent.getMessage());
  }

  @Test
  void aPortNobodyListensOnIsNoSuchNode() throws Exception {
    int port;
    try (ServerSocket gone = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = gone.getLocalPort();
    }
    AccrException e = assertThrows(AccrException.class, () -> NodeClient.of("127.0.0.1:" + port,
        null).call(Request.newBuilder().setPing(PingRequest.getDefaultInstance()).build(),
            ProgressListener.NONE));
    assertEquals(AccrException.NOT_FOUND, e.exitCode(), e.getMessage());
    assertTrue(e.getMessage().startsWith("node 127.0.0.1:" + port + " does not answer"),
        e.getMessage());
  }

  @Test
  void aNodeOffThisMachineIsNeverSentARequestInClear() {
    AccrException e = assertThrows(AccrException.class, () -> NodeClient.of("192.0.2.7:7000",
        null).call(Request.newBuilder().setPing(PingRequest.getDefaultInstance()).build(),
            ProgressListener.NONE));
    assertEquals(AccrException.USAGE, e.exitCode(), e.getMessage());
    assertTrue(e.getMessage().contains("give --tls DIR"), e.getMessage());
  }
}
