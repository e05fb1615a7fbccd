package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.node.tls.CertificateAuthority;
import dev.accr.node.tls.TlsDirectory;
import dev.accr.node.tls.TlsIdentity;
import dev.accr.proto.PingRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.workload.CounterWorkload;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TLS node's two allowances: a handshake slower than the request timeout (a loaded machine)
 * still leaves the client its full request timeout, a handshake that never ends is cut at the
 * handshake allowance and logged as such, and every connection gives its pending slot back.
 */
class NodeHandshakeTest {
  /** Connections of one peer that may wait at once: what the slot checks count. */
  private static final int PER_PEER = 3;

  @TempDir static Path tmp;
  private static TlsDirectory dir;

  private final Queue<String> log = new ConcurrentLinkedQueue<>();
  private Path runDir;
  private Node node;
  private NodeServer server;
  private int port;
  private TlsIdentity client;

  @BeforeAll
  static void material() throws IOException {
    dir = new TlsDirectory(tmp.resolve("tls"));
    CertificateAuthority ca = CertificateAuthority.openOrCreate(dir);
    ca.issueNode("n", List.of(), 30);
    ca.issueClient("client", 30);
  }

  private void start(Duration request, Duration handshake) throws IOException {
    runDir = Files.createTempDirectory(Path.of("/tmp"), "accr-hs-");
    Registry registry = Registry.of(List.of(), List.of(), List.of(new CounterWorkload()));
    node = new Node("n", registry.topologies().load("cpu-only"), registry);
    server = NodeServer.bind(new NodeService(node, () -> {}), runDir.resolve("n.sock"),
        TcpListener.tls(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            TlsIdentity.load(dir, "n")),
        ServerLimits.defaults().withRequestTimeout(request).withHandshakeTimeout(handshake)
            .withMaxPending(ServerLimits.MAX_PENDING, PER_PEER).withLog(log::add));
    server.start();
    port = ((InetSocketAddress) server.tcpAddress()).getPort();
    client = TlsIdentity.load(dir, "client");
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

  /**
   * A TLS client whose second flight (its certificate, proof and Finished) waits for
   * {@code gate}, at most {@code delay}: a client slow to check the node's certificate.
   */
  private SSLSocket slowClient(CountDownLatch gate, Duration delay) throws IOException {
    SSLSocket ssl = (SSLSocket) client.context().getSocketFactory().createSocket(
        new SlowSecondFlight(port, gate, delay), "127.0.0.1", port, true);
    ssl.setUseClientMode(true);
    ssl.setSSLParameters(client.parameters(false));
    ssl.setSoTimeout(60_000);
    return ssl;
  }

  @Test
  void aHandshakeLongerThanTheRequestTimeoutLeavesTheRequestItsFullTimeout() throws Exception {
    Duration request = Duration.ofMillis(1000);
    Duration slow = Duration.ofMillis(2000);
    start(request, Duration.ofSeconds(30));
    try (SSLSocket served = slowClient(new CountDownLatch(1), slow);
        SSLSocket silent = slowClient(new CountDownLatch(1), slow)) {
      CompletableFuture<Long> silentCut = CompletableFuture.supplyAsync(() -> {
        try {
          silent.startHandshake();
          long done = System.nanoTime();
          assertEquals(-1, silent.getInputStream().read(), "closed without an answer");
          return System.nanoTime() - done;
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      long start = System.nanoTime();
      served.startHandshake();
      assertTrue(System.nanoTime() - start >= slow.toNanos(), "the handshake was slow");
      // Most of the request timeout, which a deadline counted from the connection would not
      // have left.
      Thread.sleep(request.toMillis() * 6 / 10);
      ping().writeDelimitedTo(served.getOutputStream());
      served.getOutputStream().flush();
      assertEquals("n", Response.parseDelimitedFrom(served.getInputStream()).getPing()
          .getName());

      long quiet = silentCut.get(20, TimeUnit.SECONDS);
      assertTrue(quiet >= request.toNanos() - Duration.ofMillis(50).toNanos(),
          "a full request timeout after the handshake: " + quiet / 1_000_000 + " ms");
      assertTrue(quiet < Duration.ofSeconds(10).toNanos(), "not the handshake allowance: "
          + quiet / 1_000_000 + " ms");
    }
    awaitLog("dropped 127.0.0.1:\\d+: no request within 1 s");
    assertTrue(log.stream().noneMatch(l -> l.contains("refused")), log.toString());
    assertSlotsAllFree();
  }

  @Test
  void aHandshakeThatNeverEndsIsCutAtTheAllowance() throws Exception {
    Duration handshake = Duration.ofMillis(1500);
    start(Duration.ofMillis(300), handshake);
    CountDownLatch never = new CountDownLatch(1);
    long start = System.nanoTime();
    try (Socket silent = new Socket(InetAddress.getLoopbackAddress(), port);
        Socket partial = new Socket(InetAddress.getLoopbackAddress(), port);
        SSLSocket stalled = slowClient(never, Duration.ofSeconds(60));
        AutoCloseable unblock = never::countDown) { // before the stalled client's close
      // The start of a ClientHello record, and nothing more.
      partial.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x00, 0x40, 0x01});
      CompletableFuture<Void> stalledHandshake = CompletableFuture.runAsync(() -> {
        try {
          stalled.startHandshake();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      for (Socket s : List.of(silent, partial)) {
        s.setSoTimeout(20_000);
        InputStream in = s.getInputStream();
        try {
          while (in.read() != -1) {
            // at most the TLS alert of a handshake broken off, never an answer
          }
        } catch (java.net.SocketException reset) {
          // closed, the unread bytes with it
        }
        long cut = System.nanoTime() - start;
        assertTrue(cut >= handshake.toNanos() - Duration.ofMillis(50).toNanos(),
            "not cut at the request timeout: " + cut / 1_000_000 + " ms");
        assertTrue(cut < Duration.ofSeconds(15).toNanos(), cut / 1_000_000 + " ms");
      }
      List<String> cut = awaitLog("refused 127.0.0.1:\\d+: no TLS handshake within 1.5 s", 3);
      assertTrue(System.nanoTime() - start < Duration.ofSeconds(15).toNanos(), cut.toString());
      never.countDown();
      assertThrows(Exception.class, stalledHandshake::join, "the node closed its connection");
    }
    assertEquals(3, log.size(), "one line per connection: " + log);
    assertSlotsAllFree();
  }

  /**
   * Every pending slot is back, none twice: {@link #PER_PEER} silent connections are held, the
   * next one is dropped. A connection's slot goes back just after its log line: a few tries.
   */
  private void assertSlotsAllFree() throws Exception {
    String full = "dropped 127.0.0.1:\\d+: " + PER_PEER
        + " connections of 127.0.0.1 already wait for their request";
    for (int attempt = 1; ; attempt++) {
      log.clear();
      List<Socket> held = new ArrayList<>();
      try {
        for (int i = 0; i <= PER_PEER; i++) {
          held.add(new Socket(InetAddress.getLoopbackAddress(), port));
        }
        Pattern dropped = Pattern.compile("\\S+ " + full);
        for (int i = 0; i < 300 && matching(dropped).isEmpty(); i++) {
          Thread.sleep(10);
        }
        Thread.sleep(100); // the accepts of all, done in order
        if (log.size() == 1 || attempt == 5) {
          assertEquals(1, matching(dropped).size(), "the last one dropped: " + log);
          assertEquals(1, log.size(), "only the last one: " + log);
          for (Socket s : held.subList(0, PER_PEER)) {
            s.setSoTimeout(200);
            assertThrows(SocketTimeoutException.class, s.getInputStream()::read, "held");
          }
          return;
        }
      } finally {
        for (Socket s : held) {
          s.close();
        }
      }
      Thread.sleep(200);
    }
  }

  /** Waits for {@code count} log lines that match {@code regex} after the time; returns them. */
  private List<String> awaitLog(String regex, int count) throws InterruptedException {
    Pattern p = Pattern.compile("\\S+ " + regex);
    for (int i = 0; i < 2000 && matching(p).size() < count; i++) {
      Thread.sleep(10);
    }
    List<String> lines = matching(p);
    assertEquals(count, lines.size(), log.toString());
    return lines;
  }

  private void awaitLog(String regex) throws InterruptedException {
    awaitLog(regex, 1);
  }

  private List<String> matching(Pattern p) {
    return log.stream().filter(l -> p.matcher(l).matches()).toList();
  }

  private static Request ping() {
    return Request.newBuilder().setPing(PingRequest.getDefaultInstance()).build();
  }

  /**
   * A plain socket under a TLS client whose first write after the node's first bytes (the
   * client's second flight) waits for a gate, at most a delay.
   */
  private static final class SlowSecondFlight extends Socket {
    private final CountDownLatch gate;
    private final Duration delay;
    private volatile boolean heard;
    private boolean waited;

    SlowSecondFlight(int port, CountDownLatch gate, Duration delay) throws IOException {
      super(InetAddress.getLoopbackAddress(), port);
      this.gate = gate;
      this.delay = delay;
    }

    @Override
    public InputStream getInputStream() throws IOException {
      return new FilterInputStream(super.getInputStream()) {
        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          int n = super.read(b, off, len);
          heard |= n > 0;
          return n;
        }
      };
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
      return new FilterOutputStream(super.getOutputStream()) {
        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          if (heard && !waited) {
            waited = true;
            try {
              gate.await(delay.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          out.write(b, off, len);
        }
      };
    }
  }
}
