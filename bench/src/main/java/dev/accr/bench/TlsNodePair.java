package dev.accr.bench;

import dev.accr.api.AccrException;
import dev.accr.engine.Benchmark.Parameters;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.node.ImageRoot;
import dev.accr.node.NodeClient;
import dev.accr.node.NodeServer;
import dev.accr.node.NodeService;
import dev.accr.node.Peers;
import dev.accr.node.RunDirectory;
import dev.accr.node.ServerLimits;
import dev.accr.node.TcpListener;
import dev.accr.node.tls.CertificateAuthority;
import dev.accr.node.tls.TlsDirectory;
import dev.accr.node.tls.TlsIdentity;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * Two nodes "a" and "b" (mi250x4) in the bench's JVM, each on its UNIX socket and on loopback
 * TLS with certificates of one authority, sharing one image root as nodes sharing storage do.
 */
final class TlsNodePair implements AutoCloseable {
  /** One node of the pair; {@code address} names it over TLS ({@code NAME@127.0.0.1:PORT}). */
  record Served(Node node, NodeServer server, String address, RunDirectory run)
      implements AutoCloseable {
    NodeClient client() {
      return NodeClient.of(node.name(), run);
    }

    @Override
    public void close() {
      try {
        server.close();
      } finally {
        node.close(); // its processes killed, its devices' memory unmapped
      }
    }
  }

  private final Served a;
  private final Served b;
  private volatile boolean closed;

  private TlsNodePair(Served a, Served b) {
    this.a = a;
    this.b = b;
  }

  /** Starts the pair with its certificates and run directory under {@code work}. */
  static TlsNodePair start(Parameters p, Path work, Path root) throws IOException {
    TlsDirectory tls = new TlsDirectory(Files.createDirectory(work.resolve("tls"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
    CertificateAuthority ca = CertificateAuthority.openOrCreate(tls);
    ca.issueNode("a", List.of(), 1);
    ca.issueNode("b", List.of(), 1);
    RunDirectory run = new RunDirectory(Files.createDirectories(work.resolve("run")));
    Served a = serve(p, "a", tls, run, root);
    try {
      return new TlsNodePair(a, serve(p, "b", tls, run, root));
    } catch (IOException | RuntimeException e) {
      a.close();
      throw e;
    }
  }

  Served a() {
    return a;
  }

  Served b() {
    return b;
  }

  private static Served serve(Parameters p, String name, TlsDirectory tls, RunDirectory run,
      Path root) throws IOException {
    Node node = new Node(name, p.registry().topologies().load("mi250x4"), p.registry());
    TlsIdentity identity = TlsIdentity.load(tls, name);
    NodeService service = new NodeService(node, ImageRoot.open(root), () -> {})
        .reachingPeersWith(new Peers(run, identity));
    NodeServer server = NodeServer.bind(service, run.socket(name),
        TcpListener.tls(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), identity),
        ServerLimits.defaults());
    server.start();
    int port = ((InetSocketAddress) server.tcpAddress()).getPort();
    return new Served(node, server, name + "@127.0.0.1:" + port, run);
  }

  /**
   * Kills every process left on either node (the pair runs only the bench's), wherever a run
   * ended: each is removed from its node's table and its memory and devices are freed.
   */
  void killProcesses() {
    for (Served s : List.of(a, b)) {
      for (SimProcess p : s.node().processes()) {
        try {
          if (s.node().hasPid(p.pid())) {
            s.node().kill(p.pid()); // its subtree goes with it
          }
        } catch (AccrException gone) {
          // it went meanwhile (a migration killing its source, a killed tree)
        }
      }
    }
  }

  boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    closed = true;
    try {
      b.close();
    } finally {
      a.close();
    }
  }
}
