package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.node.tls.TlsFailures;
import dev.accr.node.tls.TlsIdentity;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.SSLSocket;

/**
 * Serves a {@link NodeService} on a UNIX-domain socket (owner only) and optionally on TCP, with
 * TLS 1.3 and client certificates unless the listener is an insecure loopback one. One request
 * per connection, each on a virtual thread of its own (a {@code wait} may block for long); a
 * TLS connection must complete its handshake within the limits' handshake allowance, and then
 * every connection must deliver its request within the request timeout; a peer without a valid
 * certificate never gets an answer.
 */
public final class NodeServer implements AutoCloseable {
  private static final int BACKLOG = 1024;
  /** A TLS alert record (fatal, handshake_failure): what a plain client gets from a TLS node. */
  private static final byte[] TLS_HANDSHAKE_FAILURE = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};

  private final NodeService service;
  private final Path socket;
  private final ServerLimits limits;
  private final OneRequest requests;
  /** Local clients have slots of their own: no TCP peer can keep them out. */
  private final PendingSlots localPending;
  private final PendingSlots tcpPending;
  private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(
      Thread.ofPlatform().name("request-deadlines").daemon().factory());
  private final CountDownLatch stopped = new CountDownLatch(1);
  private ServerSocketChannel unix;
  private ServerSocket tcp;
  private TlsIdentity tls;

  private NodeServer(NodeService service, Path socket, ServerLimits limits) {
    this.service = service;
    this.socket = socket;
    this.limits = limits;
    this.requests = new OneRequest(service, limits);
    this.localPending = new PendingSlots(limits.maxPending(), limits.maxPending());
    this.tcpPending = new PendingSlots(limits.maxPending(), limits.maxPendingPerPeer());
    service.incomingSets().limits(limits); // sets come in over this server's connections
  }

  /** An insecure server: {@code tcp}, when not null, must be a loopback address. */
  public static NodeServer bind(NodeService service, Path socket, InetSocketAddress tcp)
      throws IOException {
    return bind(service, socket, tcp == null ? null : TcpListener.insecure(tcp),
        ServerLimits.defaults());
  }

  /**
   * Binds the socket (replacing a stale one) and, when {@code tcp} is not null, a TCP port.
   * Fails if a live node already owns the socket.
   */
  public static NodeServer bind(NodeService service, Path socket, TcpListener tcp,
      ServerLimits limits) throws IOException {
    if (Files.exists(socket)) {
      if (NodeClient.isAlive(socket)) {
        throw AccrException.failed("node %s is already running (%s)", service.node().name(), socket);
      }
      Files.delete(socket);
    }
    NodeServer server = new NodeServer(service, socket, limits);
    try {
      server.unix = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.unix.bind(UnixDomainSocketAddress.of(socket), BACKLOG);
      try {
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException ignored) {
        // Not a POSIX file system: the run directory's permissions are all there is.
      }
      if (tcp != null) {
        server.tls = tcp.tls();
        server.tcp = new ServerSocket();
        server.tcp.bind(tcp.address(), BACKLOG);
      }
      return server;
    } catch (IOException e) {
      server.close(); // no stale socket behind a node that could not start
      throw AccrException.failed("node %s: cannot listen on %s: %s", service.node().name(),
          tcp == null ? socket : tcp.address(), e.getMessage());
    }
  }

  /** The TCP address actually bound, or null. */
  public SocketAddress tcpAddress() {
    return tcp == null ? null : tcp.getLocalSocketAddress();
  }

  /** Starts accepting on every listener. */
  public void start() {
    Thread.ofPlatform().name("accept-unix").daemon().start(this::acceptUnix);
    if (tcp != null) {
      Thread.ofPlatform().name("accept-tcp").daemon().start(this::acceptTcp);
    }
  }

  private void acceptUnix() {
    while (unix.isOpen()) {
      try {
        SocketChannel ch = unix.accept();
        PendingSlots.Slot slot = admit(localPending, ch, "local", "local");
        if (slot != null) {
          Thread.ofVirtual().start(() -> serveUnix(ch, slot));
        }
      } catch (IOException e) {
        acceptFailed(unix.isOpen(), e);
      }
    }
  }

  private void acceptTcp() {
    while (!tcp.isClosed()) {
      try {
        Socket raw = tcp.accept();
        PendingSlots.Slot slot = admit(tcpPending, raw, peer(raw), address(raw));
        if (slot != null) {
          Thread.ofVirtual().start(() -> serveTcp(raw, slot));
        }
      } catch (IOException e) {
        acceptFailed(!tcp.isClosed(), e);
      }
    }
  }

  /** Takes a pending slot for a new connection of {@code peer}, or closes it: null. */
  private PendingSlots.Slot admit(PendingSlots slots, Closeable connection, String peer,
      String address) throws IOException {
    PendingSlots.Slot slot = slots.take(peer);
    if (slot == null) {
      limits.log().accept("dropped " + address + ": " + slots.refusal(peer));
      connection.close();
    }
    return slot;
  }

  private void acceptFailed(boolean open, IOException e) {
    if (open) {
      limits.log().accept("accept failed: " + e.getMessage());
      try {
        Thread.sleep(50); // e.g. out of file descriptors: do not spin
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void serveUnix(SocketChannel ch, PendingSlots.Slot slot) {
    RequestDeadline deadline = deadline(ch, slot);
    try (ch) {
      requests.serve(new Inbound(Channels.newInputStream(ch), ch, ch::shutdownInput),
          Channels.newOutputStream(ch), Caller.LOCAL, deadline, null);
    } catch (IOException | UncheckedIOException e) {
      connectionFailed("local", deadline, e);
    } finally {
      deadline.cancel();
    }
  }

  private void serveTcp(Socket raw, PendingSlots.Slot slot) {
    String address = address(raw);
    // A TLS connection first has the handshake allowance, then the request timeout afresh.
    Duration first = tls == null ? limits.requestTimeout() : limits.handshakeTimeout();
    RequestDeadline deadline = new RequestDeadline(deadlines, first, raw, slot);
    try (raw) {
      raw.setSoTimeout((int) first.toMillis());
      raw.setTcpNoDelay(true);
      if (tls == null) {
        requests.serve(new Inbound(raw.getInputStream(), null, raw::close),
            raw.getOutputStream(), new Caller(true, address, ""), deadline, null);
        return;
      }
      SSLSocket ssl = handshake(raw, address, deadline);
      if (ssl == null) {
        return;
      }
      try (ssl) {
        raw.setSoTimeout((int) limits.requestTimeout().toMillis());
        String identity = TlsIdentity.commonName(
            (javax.security.auth.x500.X500Principal) ssl.getSession().getPeerPrincipal());
        requests.serve(new Inbound(ssl.getInputStream(), null, raw::close),
            ssl.getOutputStream(), new Caller(true, address, identity), deadline, ssl);
      }
    } catch (IOException | UncheckedIOException e) {
      connectionFailed(address, deadline, e);
    } finally {
      deadline.cancel();
    }
  }

  /**
   * The TLS socket over {@code raw} once its handshake is done within the allowance, with the
   * request's deadline restarted; null when the peer was refused (and logged) or went away.
   */
  private SSLSocket handshake(Socket raw, String address, RequestDeadline deadline)
      throws IOException {
    int first;
    try {
      first = raw.getInputStream().read();
    } catch (IOException e) {
      if (deadline.expired() || e instanceof SocketTimeoutException) {
        refused(address, TlsFailures.noHandshake(limits.handshakeTimeout()));
        return null;
      }
      throw e;
    }
    if (first != RequestReader.TLS_HANDSHAKE) {
      if (first != -1) {
        refused(address, "not a TLS client");
        InputStream in = raw.getInputStream();
        in.skip(Math.min(in.available(), 1 << 16)); // no reset to lose the alert in
        raw.getOutputStream().write(TLS_HANDSHAKE_FAILURE); // so that it can tell its user
        raw.shutdownOutput();
      }
      return null;
    }
    SSLSocket ssl = (SSLSocket) tls.context().getSocketFactory()
        .createSocket(raw, new ByteArrayInputStream(new byte[] {(byte) first}), true);
    try {
      ssl.setUseClientMode(false);
      ssl.setSSLParameters(tls.parameters(true));
      ssl.startHandshake();
    } catch (IOException e) {
      ssl.close();
      refused(address, deadline.expired() ? TlsFailures.noHandshake(limits.handshakeTimeout())
          : TlsFailures.serverReason(e, limits.handshakeTimeout()));
      return null;
    }
    if (!deadline.restart(limits.requestTimeout())) {
      // The allowance ran out as the handshake ended: the connection is closed already.
      ssl.close();
      refused(address, TlsFailures.noHandshake(limits.handshakeTimeout()));
      return null;
    }
    return ssl;
  }

  private void refused(String address, String why) {
    limits.log().accept("refused " + address + ": " + why);
  }

  private RequestDeadline deadline(Closeable connection, PendingSlots.Slot slot) {
    return new RequestDeadline(deadlines, limits.requestTimeout(), connection, slot);
  }

  private void connectionFailed(String address, RequestDeadline deadline, Exception e) {
    // A TCP read may time out just before the deadline fires: the same thing.
    if (deadline.expired() || (e instanceof SocketTimeoutException && deadline.waiting())) {
      limits.log().accept("dropped " + address + ": no request within "
          + ServerLimits.seconds(limits.requestTimeout()));
    } else {
      // The client went away; the operation itself has finished or failed on its own.
      limits.log().accept("connection of " + address + " closed: " + e.getMessage());
    }
  }

  /** The peer's address without its port: what the cap per peer counts by. */
  private static String peer(Socket s) {
    return s.getInetAddress() == null ? String.valueOf(s.getRemoteSocketAddress())
        : s.getInetAddress().getHostAddress();
  }

  private static String address(Socket s) {
    return s.getRemoteSocketAddress() instanceof InetSocketAddress inet
        ? (inet.getAddress() == null ? inet.getHostString() : inet.getAddress().getHostAddress())
            + ":" + inet.getPort()
        : String.valueOf(s.getRemoteSocketAddress());
  }

  /** Blocks until {@link #close()} is called. */
  public void awaitStop() throws InterruptedException {
    stopped.await();
  }

  @Override
  public void close() {
    for (Closeable listener : new Closeable[] {unix, tcp}) {
      try {
        if (listener != null) {
          listener.close();
        }
      } catch (IOException ignored) {
        // Closing on shutdown.
      }
    }
    deadlines.shutdownNow();
    service.close();
    try {
      Files.deleteIfExists(socket);
    } catch (IOException ignored) {
      // A stale socket is replaced by the next node of that name.
    }
    stopped.countDown();
  }
}
