package dev.accr.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.node.tls.CertificateAuthority;
import dev.accr.node.tls.TlsDirectory;
import dev.accr.node.tls.TlsIdentity;
import dev.accr.proto.PingRequest;
import dev.accr.proto.Request;
import dev.accr.proto.RunRequest;
import dev.accr.workload.CounterWorkload;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes on loopback TCP with TLS, in this JVM: who gets in, who is refused without any answer,
 * and what a client says when a node's certificate is not the one it expects.
 */
class NodeTlsTest {
  @TempDir static Path tmp;
  private static TlsDirectory ours;
  private static TlsDirectory theirs;
  private static TlsDirectory mixed;

  private final Queue<String> log = new ConcurrentLinkedQueue<>();
  private Path runDir;
  private Node node;
  private NodeServer server;
  private String hostPort;

  @BeforeAll
  static void material() throws IOException {
    ours = new TlsDirectory(tmp.resolve("ours"));
    CertificateAuthority ca = CertificateAuthority.openOrCreate(ours);
    ca.issueNode("a", List.of(), 30);
    ca.issueNode("b", List.of(), 30);
    ca.issueNode("old-node", List.of(), -1);
    ca.issueClient("client", 30);
    ca.issueClient("old", -1);
    theirs = new TlsDirectory(tmp.resolve("theirs"));
    CertificateAuthority other = CertificateAuthority.openOrCreate(theirs);
    other.issueNode("a", List.of(), 30);
    other.issueClient("client", 30);
    // A client of the other CA that trusts ours: it gets to present its certificate.
    mixed = new TlsDirectory(Files.createDirectory(tmp.resolve("mixed"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
    Files.copy(ours.ca(), mixed.ca());
    for (Path p : List.of(theirs.certificate("client"), theirs.key("client"))) {
      Files.copy(p, mixed.path().resolve(p.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
    }
  }

  /** Starts node "n" listening on loopback TCP; {@code tls} null: insecure. */
  private void start(TlsIdentity tls) throws IOException {
    runDir = Files.createTempDirectory(Path.of("/tmp"), "accr-tls-");
    Registry registry = Registry.of(List.of(), List.of(), List.of(new CounterWorkload()));
    node = new Node("n", registry.topologies().load("cpu-only"), registry);
    InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    server = NodeServer.bind(new NodeService(node, () -> {}), runDir.resolve("n.sock"),
        new TcpListener(any, tls), ServerLimits.defaults().withLog(log::add));
    server.start();
    hostPort = "127.0.0.1:" + ((InetSocketAddress) server.tcpAddress()).getPort();
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

  private static Request ping() {
    return Request.newBuilder().setPing(PingRequest.getDefaultInstance()).build();
  }

  private static Request run() {
    return Request.newBuilder().setRun(RunRequest.newBuilder().setWorkload("counter")
        .addAllArgs(List.of("--mem-mib", "1", "--steps", "5"))).build();
  }

  private AccrException refused(String target, TlsIdentity client, Request request) {
    return assertThrows(AccrException.class, () -> NodeClient.of(target, null, client)
        .call(request, ProgressListener.NONE));
  }

  /** Waits for the node's one log line about a refused peer. */
  private String logLine(String reason) throws InterruptedException {
    for (int i = 0; i < 500 && log.stream().noneMatch(l -> l.contains(reason)); i++) {
      Thread.sleep(10);
    }
    List<String> lines = log.stream().filter(l -> l.contains("refused")).toList();
    assertEquals(1, lines.size(), log.toString());
    assertTrue(lines.getFirst().matches("\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z refused 127\\.0\\.0\\.1:\\d+: "
        + java.util.regex.Pattern.quote(reason)), lines.getFirst());
    return lines.getFirst();
  }

  @Test
  void aClientOfTheCaIsAnsweredAndTheSocketIsTheOwnersAlone() throws Exception {
    start(TlsIdentity.load(ours, "a"));
    TlsIdentity client = TlsIdentity.load(ours, "client").checkCurrent();
    assertEquals("n", NodeClient.of(hostPort, null, client).call(ping(), ProgressListener.NONE)
        .getPing().getName());
    assertEquals("n", NodeClient.of("a@" + hostPort, null, client)
        .call(ping(), ProgressListener.NONE).getPing().getName());
    assertEquals("n", NodeClient.of("localhost:" + hostPort.split(":")[1], null, client)
        .call(ping(), ProgressListener.NONE).getPing().getName());
    assertEquals("rw-------", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(runDir.resolve("n.sock"))));
    assertTrue(log.isEmpty(), log.toString());
  }

  @Test
  void aPeerWithoutACertificateGetsNoAnswerAndIsLogged() throws Exception {
    start(TlsIdentity.load(ours, "a"));
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509")
        .generateCertificate(Files.newInputStream(ours.ca())));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    SSLContext noCertificate = SSLContext.getInstance("TLSv1.3");
    noCertificate.init(null, tmf.getTrustManagers(), null);
    int port = ((InetSocketAddress) server.tcpAddress()).getPort();
    try (SSLSocket s = (SSLSocket) noCertificate.getSocketFactory().createSocket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      IOException e = assertThrows(IOException.class, () -> {
        s.startHandshake(); // TLS 1.3: the client's side may complete before the node checks
        run().writeDelimitedTo(s.getOutputStream());
        InputStream in = s.getInputStream();
        if (in.read() == -1) {
          throw new java.io.EOFException("closed without an answer");
        }
      });
      assertTrue(e instanceof SSLException || e instanceof java.io.EOFException
          || e instanceof java.net.SocketException, e.toString());
    }
    logLine("no client certificate");
    assertTrue(node.processes().isEmpty(), "nothing ran");
  }

  @Test
  void aClientCertificateOfAnotherCaGetsNoAnswer() throws Exception {
    start(TlsIdentity.load(ours, "a"));
    AccrException e = refused(hostPort, TlsIdentity.load(mixed, "client"), run());
    assertEquals(AccrException.FAILED, e.exitCode());
    assertTrue(e.getMessage().matches("node .*: it refused the client certificate .*client\\.pem "
        + "\\(.*\\)"), e.getMessage());
    logLine("certificate is not signed by this node's CA");
    assertTrue(node.processes().isEmpty(), "nothing ran");
  }

  /**
   * TLS 1.3: the client's last writes of the handshake (its proof, its Finished) often meet
   * the close of a node that has refused the certificate it read first (a broken pipe); every
   * attempt is still told why.
   */
  @Test
  void everyClientOfAnotherCaIsToldWhyHoweverItsWritesMeetTheNodesClose() throws Exception {
    start(TlsIdentity.load(ours, "a"));
    TlsIdentity client = TlsIdentity.load(mixed, "client");
    for (int i = 0; i < 20; i++) {
      AccrException e = refused(hostPort, client, run());
      assertTrue(e.getMessage().matches("node .*: it refused the client certificate"
          + " .*client\\.pem \\(.*\\)"), "attempt " + i + ": " + e.getMessage());
    }
    assertTrue(node.processes().isEmpty(), "nothing ran");
  }

  @Test
  void anExpiredClientCertificateGetsNoAnswer() throws Exception {
    start(TlsIdentity.load(ours, "a"));
    AccrException e = refused(hostPort, TlsIdentity.load(ours, "old"), run());
    assertTrue(e.getMessage().contains("it refused the client certificate"), e.getMessage());
    logLine("certificate has expired");
    assertTrue(node.processes().isEmpty(), "nothing ran");
  }

  @Test
  void aPlainClientIsToldTheNodeUsesTlsAndGetsNoAnswer() throws Exception {
    start(TlsIdentity.load(ours, "a"));
    AccrException e = refused(hostPort, null, run());
    assertEquals(AccrException.FAILED, e.exitCode());
    assertEquals("node " + hostPort + " uses TLS: give --tls DIR (or set ACCR_TLS_DIR)",
        e.getMessage());
    logLine("not a TLS client");
    assertTrue(node.processes().isEmpty(), "nothing ran");
  }

  @Test
  void aClientRefusesANodeOfAnotherCa() throws Exception {
    start(TlsIdentity.load(theirs, "a"));
    AccrException e = refused(hostPort, TlsIdentity.load(ours, "client"), ping());
    assertEquals(AccrException.FAILED, e.exitCode());
    assertEquals("node " + hostPort + ": its certificate is not signed by " + ours.ca(),
        e.getMessage());
  }

  @Test
  void aClientRefusesANodeCertificateThatNamesAnotherNode() throws Exception {
    start(TlsIdentity.load(ours, "b"));
    AccrException e = refused("a@" + hostPort, TlsIdentity.load(ours, "client"), run());
    assertEquals(AccrException.FAILED, e.exitCode());
    assertEquals("node a@" + hostPort + ": its certificate names node 'b', not 'a'",
        e.getMessage());
    assertTrue(node.processes().isEmpty(), "the request was never sent");
  }

  @Test
  void aClientRefusesAnExpiredNodeCertificate() throws Exception {
    start(TlsIdentity.load(ours, "old-node"));
    AccrException e = refused(hostPort, TlsIdentity.load(ours, "client"), ping());
    assertEquals("node " + hostPort + ": its certificate has expired", e.getMessage());
  }

  @Test
  void aTlsClientOfAnInsecureNodeIsToldSo() throws Exception {
    start(null);
    AccrException e = refused(hostPort, TlsIdentity.load(ours, "client"), ping());
    assertEquals(AccrException.FAILED, e.exitCode());
    assertTrue(e.getMessage().endsWith("it does not speak TLS (a node started with --insecure): "
        + "connect without --tls"), e.getMessage());
    assertEquals("n", NodeClient.of(hostPort, null, null).call(ping(), ProgressListener.NONE)
        .getPing().getName(), "a plain client is answered");
  }

  @Test
  void onlyALoopbackListenerMayBeInsecure() {
    AccrException e = assertThrows(AccrException.class,
        () -> TcpListener.insecure(new InetSocketAddress("0.0.0.0", 0)));
    assertEquals(AccrException.USAGE, e.exitCode());
  }
}
