package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.node.tls.CertificateAuthority;
import dev.accr.node.tls.TlsDirectory;
import dev.accr.node.tls.TlsIdentity;
import dev.accr.proto.PingRequest;
import dev.accr.proto.PsRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.workload.CounterWorkload;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What no client can do to a node: make it read a huge request, hold it by sending nothing or
 * trickling, or keep 200 clients that connect at once over TLS from their answers.
 */
class NodeServerLimitsTest {
  @TempDir Path tmp;

  private final Queue<String> log = new ConcurrentLinkedQueue<>();
  private Path runDir;
  private Node node;
  private NodeServer server;

  private void start(TlsIdentity tls, ServerLimits limits) throws IOException {
    InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    listen(tls == null ? null : TcpListener.tls(any, tls), limits);
  }

  private void listen(TcpListener tcp, ServerLimits limits) throws IOException {
    runDir = Files.createTempDirectory(Path.of("/tmp"), "accr-lim-");
    Registry registry = Registry.of(List.of(), List.of(), List.of(new CounterWorkload()));
    node = new Node("n", registry.topologies().load("cpu-only"), registry);
    server = NodeServer.bind(new NodeService(node, () -> {}), runDir.resolve("n.sock"), tcp,
        limits.withLog(log::add));
    server.start();
  }

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
      node.close();
      Files.deleteIfExists(runDir.resolve("n.sock"));
      Files.deleteIfExists(runDir);
    }
  }

  private SocketChannel connectUnix() throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    ch.connect(UnixDomainSocketAddress.of(runDir.resolve("n.sock")));
    return ch;
  }

  private void awaitLog(String line) throws InterruptedException {
    for (int i = 0; i < 1000 && log.stream().noneMatch(l -> l.contains(line)); i++) {
      Thread.sleep(10);
    }
    assertTrue(log.stream().anyMatch(l -> l.contains(line)), log.toString());
  }

  @Test
  void aLengthBeyondTheBoundClosesTheConnectionWithoutReadingTheRequest() throws Exception {
    // A long timeout: what closes the connection is the length, not the clock.
    start(null, ServerLimits.defaults().withRequestTimeout(Duration.ofSeconds(60)));
    try (SocketChannel ch = connectUnix()) {
      OutputStream out = Channels.newOutputStream(ch);
      int length = ServerLimits.MAX_REQUEST_BYTES + 1;
      com.google.protobuf.CodedOutputStream coded = com.google.protobuf.CodedOutputStream
          .newInstance(out);
      coded.writeUInt32NoTag(length);
      coded.flush();
      long start = System.nanoTime();
      assertEquals(-1, Channels.newInputStream(ch).read(), "closed without an answer");
      assertTrue(System.nanoTime() - start < Duration.ofSeconds(30).toNanos());
    }
    awaitLog("dropped local: request of " + (ServerLimits.MAX_REQUEST_BYTES + 1)
        + " bytes exceeds the bound of " + ServerLimits.MAX_REQUEST_BYTES + " bytes");
    // A request within the bound is still answered.
    assertEquals("n", NodeClient.of("n", new RunDirectory(runDir)).call(ping(),
        ProgressListener.NONE).getPing().getName());
  }

  @Test
  void aClientThatTricklesItsRequestIsDroppedAtTheDeadline() throws Exception {
    start(null, ServerLimits.defaults().withRequestTimeout(Duration.ofMillis(500)));
    long start = System.nanoTime();
    try (SocketChannel ch = connectUnix()) {
      OutputStream out = Channels.newOutputStream(ch);
      out.write(100); // a request of 100 bytes, sent one byte every 100 ms: 10 s in all
      assertThrows(IOException.class, () -> {
        for (int i = 0; i < 100; i++) {
          Thread.sleep(100);
          out.write(0);
          out.flush();
        }
      });
    }
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(8).toNanos(),
        "dropped long before the request was complete");
    awaitLog("dropped local: no request within 0.5 s");
  }

  @Test
  void twoHundredTlsClientsAtOnceAreAllAnsweredWhileASilentOneWaits() throws Exception {
    TlsDirectory dir = new TlsDirectory(tmp.resolve("tls"));
    CertificateAuthority ca = CertificateAuthority.openOrCreate(dir);
    ca.issueNode("n", List.of(), 30);
    ca.issueClient("client", 30);
    int clients = 200;
    // All from one address at once: the cap per peer is not what this test is about.
    start(TlsIdentity.load(dir, "n"), ServerLimits.defaults()
        .withRequestTimeout(Duration.ofSeconds(120)).withHandshakeTimeout(Duration.ofSeconds(120))
        .withMaxPending(ServerLimits.MAX_PENDING, clients + 1));
    SimProcess p = node.create("counter", List.of("--steps", "10"), tmp, 0);
    int port = ((InetSocketAddress) server.tcpAddress()).getPort();
    TlsIdentity client = TlsIdentity.load(dir, "client");
    try (Socket silent = new Socket(InetAddress.getLoopbackAddress(), port);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<List<Response>>> answers = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        answers.add(pool.submit(() -> {
          go.await();
          NodeClient c = NodeClient.of("n@127.0.0.1:" + port, null, client);
          return List.of(c.call(ping(), ProgressListener.NONE),
              c.call(Request.newBuilder().setPs(PsRequest.getDefaultInstance()).build(),
                  ProgressListener.NONE));
        }));
      }
      go.countDown();
      for (Future<List<Response>> answer : answers) {
        List<Response> r = answer.get(120, TimeUnit.SECONDS);
        assertEquals("n", r.get(0).getPing().getName());
        assertEquals(p.pid(), r.get(1).getPs().getProcesses(0).getPid());
      }
      // The silent client still holds its connection: nobody waited for it to go.
      silent.setSoTimeout(100);
      InputStream in = silent.getInputStream();
      assertThrows(SocketTimeoutException.class, in::read);
    }
    assertTrue(log.stream().noneMatch(l -> l.contains("refused") && !l.contains("not a TLS")),
        log.toString());
  }

  @Test
  void silentTcpConnectionsOfOnePeerKeepOutNeitherLocalClientsNorOtherPeers() throws Exception {
    InetAddress peer = InetAddress.getByName("127.0.0.1");
    listen(TcpListener.insecure(new InetSocketAddress(peer, 0)), ServerLimits.defaults()
        .withRequestTimeout(Duration.ofSeconds(60)).withMaxPending(8, 4));
    List<Socket> silent = new ArrayList<>();
    try {
      for (int i = 0; i < 12; i++) {
        silent.add(new Socket(peer, ((InetSocketAddress) server.tcpAddress()).getPort()));
      }
      awaitLog("dropped 127.0.0.1:"); // the peer has all it may hold
      assertEquals("n", NodeClient.of("n", new RunDirectory(runDir)).call(ping(),
          ProgressListener.NONE).getPing().getName(), "a local client gets in");
      try (Socket other = new Socket()) {
        other.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
        other.connect(server.tcpAddress());
        ping().writeDelimitedTo(other.getOutputStream());
        assertEquals("n", Response.parseDelimitedFrom(other.getInputStream()).getPing()
            .getName(), "another peer gets in");
      }
    } finally {
      for (Socket s : silent) {
        s.close();
      }
    }
  }

  @Test
  void aRunDirectoryOthersMayEnterOrOfAnotherUserIsRefused() throws Exception {
    Path open = Files.createDirectory(tmp.resolve("run"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
    AccrException e = assertThrows(AccrException.class, () -> new RunDirectory(open).create());
    assertEquals(AccrException.FAILED, e.exitCode());
    assertTrue(e.getMessage().contains("may be entered by others"), e.getMessage());
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwx------"));
    new RunDirectory(open).create();
    Path created = tmp.resolve("new-run");
    new RunDirectory(created).create();
    assertEquals("rwx------", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(created)));
  }

  private static Request ping() {
    return Request.newBuilder().setPing(PingRequest.getDefaultInstance()).build();
  }
}
