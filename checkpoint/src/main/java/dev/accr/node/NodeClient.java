package dev.accr.node;

import com.google.protobuf.CodedInputStream;
import dev.accr.api.AccrException;
import dev.accr.image.ProgressListener;
import dev.accr.node.tls.TlsFailures;
import dev.accr.node.tls.TlsIdentity;
import dev.accr.proto.PingRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * A client of one node: by name (its socket in the run directory) or by
 * {@code [NAME@]HOST:PORT}, over TLS when given a TLS identity. Over TLS the node's certificate
 * must be of the client's CA, name the address, and name node NAME when one is given. Each call
 * opens a connection, sends one request and reads responses until the final one.
 */
public final class NodeClient {
  private static final int CONNECT_TIMEOUT_MS = 10_000;
  /** As long as a node grants a handshake: on a loaded machine one can take seconds. */
  private static final int HANDSHAKE_TIMEOUT_MS = (int) ServerLimits.HANDSHAKE_TIMEOUT.toMillis();
  /** A response larger than this is not believed (a process list of a busy node is far less). */
  private static final int MAX_RESPONSE_BYTES = 64 << 20;
  /** The first byte of a TLS alert record, as a node with TLS answers a plain client. */
  private static final int TLS_ALERT = 0x15;
  private static final int TLS_VERSION_MAJOR = 0x03;

  private final String node;
  private final UnixDomainSocketAddress unix;
  private final InetSocketAddress tcp;
  private final String expectedName;
  private final TlsIdentity tls;

  private NodeClient(String node, UnixDomainSocketAddress unix, InetSocketAddress tcp,
      String expectedName, TlsIdentity tls) {
    this.node = node;
    this.unix = unix;
    this.tcp = tcp;
    this.expectedName = expectedName;
    this.tls = tls;
  }

  /** A client for a node name or {@code [NAME@]HOST:PORT}, without TLS. */
  public static NodeClient of(String target, RunDirectory run) {
    return of(target, run, null);
  }

  /**
   * A client for {@code target}: a node name, which must have a socket in {@code run}, or
   * {@code [NAME@]HOST:PORT}, reached over TLS with {@code tls} when it is not null.
   */
  public static NodeClient of(String target, RunDirectory run, TlsIdentity tls) {
    int colon = target.lastIndexOf(':');
    int at = target.indexOf('@');
    if (colon > 0 || at >= 0) {
      if (colon < at) {
        throw AccrException.usage("--node %s: expected NAME, HOST:PORT or NAME@HOST:PORT", target);
      }
      String name = at < 0 ? null : RunDirectory.checkName(target.substring(0, at));
      String host = target.substring(at + 1, colon).replaceAll("^\\[(.*)]$", "$1");
      try {
        int port = Integer.parseInt(target.substring(colon + 1));
        return new NodeClient(target, null, new InetSocketAddress(host, port), name, tls);
      } catch (NumberFormatException e) {
        throw AccrException.usage("--node %s: port is not a number", target);
      } catch (IllegalArgumentException e) {
        throw AccrException.usage("--node %s: %s", target, e.getMessage());
      }
    }
    RunDirectory.checkName(target);
    Path socket = run.socket(target);
    if (!Files.exists(socket)) {
      throw AccrException.notFound("no node '%s' is running in %s; start one with 'accr node"
          + " start --name %s' ('accr node ls' lists the running ones)", target, run.path(), target);
    }
    return new NodeClient(target, UnixDomainSocketAddress.of(socket), null, null, null);
  }

  /** The node as the user named it. */
  public String name() {
    return node;
  }

  /** Describes a failure of a TLS connection to this node. */
  String tlsReason(javax.net.ssl.SSLException e) {
    return TlsFailures.clientReason(e, tls, tcp.getHostString());
  }

  /** True when a node answers a ping on {@code socket}. */
  public static boolean isAlive(Path socket) {
    try {
      new NodeClient(socket.toString(), UnixDomainSocketAddress.of(socket), null, null, null)
          .call(Request.newBuilder().setPing(PingRequest.getDefaultInstance()).build(),
              ProgressListener.NONE);
      return true;
    } catch (AccrException e) {
      return false;
    }
  }

  /**
   * Sends {@code request} and returns the final response; progress goes to {@code progress};
   * an error reply is thrown as an {@link AccrException} with the node's exit code. A node that
   * cannot be reached is not found (exit 5); a connection lost once made is a failure (exit 1):
   * the node was there, and the request may have taken effect.
   */
  public Response call(Request request, ProgressListener progress) {
    return call(request, progress, line -> {}, new Cancel());
  }

  /**
   * Sends {@code request} as {@link #call(Request, ProgressListener)} does; the node's log
   * lines (asked for with the request's {@code log_level}) go to {@code logLines}, and
   * {@code cancel} lets another thread close this side of the connection, which cancels a
   * dump or restore on the node: the node's answer (the failure, or the result if it came too
   * late) is still read.
   */
  public Response call(Request request, ProgressListener progress, Consumer<String> logLines,
      Cancel cancel) {
    try (Connection c = open()) {
      try {
        request.writeDelimitedTo(c.out);
        c.out.flush();
      } catch (IOException e) {
        // A node that refused this client's certificate has said why in an alert, and closed.
        throw tls == null ? e : alertOr(c.in, e);
      }
      c.requestSent();
      cancel.attach(c);
      for (boolean first = true; ; first = false) {
        Response r = read(c.in, first);
        switch (r.getKindCase()) {
          case PROGRESS -> progress.progress(r.getProgress().getPhase(), r.getProgress().getDone(),
              r.getProgress().getTotal());
          case LOG -> logLines.accept(r.getLog().getLine());
          case ERROR -> throw new RemoteException(r.getError().getExitCode(),
              r.getError().getMessage(), r.getError().getStackTrace(), r.getError().getLogFile());
          default -> {
            return r;
          }
        }
      }
    } catch (SSLException e) {
      throw AccrException.failed("node %s: %s", node,
          TlsFailures.clientReason(e, tls, tcp.getHostString()));
    } catch (IOException e) {
      throw AccrException.failed("lost the connection to node %s: %s", node, e.getMessage());
    }
  }

  /** Reads a response; only the first byte of the first may be a TLS node's alert. */
  Response read(InputStream in, boolean first) throws IOException {
    int head = in.read();
    if (head == -1) {
      throw AccrException.failed("node %s closed the connection without an answer%s", node,
          tcp != null && tls == null ? " (a node with TLS needs --tls DIR)" : "");
    }
    if (first && head == TLS_ALERT && tcp != null && tls == null) {
      // A response of 21 bytes also starts so: a TLS record goes on with its version (3.x).
      int next = in.read();
      if (next == TLS_VERSION_MAJOR || next == -1) {
        throw AccrException.failed("node %s uses TLS: give --tls DIR (or set ACCR_TLS_DIR)",
            node);
      }
      in = new SequenceInputStream(new ByteArrayInputStream(new byte[] {(byte) next}), in);
    }
    int length = CodedInputStream.readRawVarint32(head, in);
    if (length < 0 || length > MAX_RESPONSE_BYTES) {
      throw AccrException.failed("node %s sent a response of %d bytes, more than %d", node,
          length & 0xffffffffL, MAX_RESPONSE_BYTES);
    }
    byte[] bytes = in.readNBytes(length);
    if (bytes.length < length) {
      throw new EOFException("response cut short");
    }
    return Response.parseFrom(bytes);
  }

  Connection open() throws IOException {
    if (unix != null) {
      SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        ch.connect(unix);
      } catch (IOException e) {
        ch.close();
        throw doesNotAnswer(e);
      }
      return new Connection(Channels.newInputStream(ch), Channels.newOutputStream(ch), ch, null);
    }
    if (tcp.isUnresolved()) {
      throw AccrException.notFound("node %s does not answer: unknown host %s", node,
          tcp.getHostString());
    }
    if (tls == null && !tcp.getAddress().isLoopbackAddress()) {
      // Only loopback nodes may run without TLS: whatever answers in clear elsewhere is not one
      // of ours, and the request would travel readable.
      throw AccrException.usage("node %s is not on this machine: give --tls DIR (or set"
          + " ACCR_TLS_DIR); requests go in clear only to a node on loopback", node);
    }
    TlsClientSocket lenient = tls == null ? null : new TlsClientSocket();
    Socket raw = lenient == null ? new Socket() : lenient;
    try {
      try {
        raw.connect(tcp, CONNECT_TIMEOUT_MS);
      } catch (IOException e) {
        throw doesNotAnswer(e);
      }
      raw.setTcpNoDelay(true);
      if (tls == null) {
        return new Connection(raw.getInputStream(), raw.getOutputStream(), raw, null);
      }
      SSLSocket ssl = (SSLSocket) tls.context().getSocketFactory()
          .createSocket(raw, tcp.getHostString(), tcp.getPort(), true);
      ssl.setUseClientMode(true);
      ssl.setSSLParameters(tls.parameters(false));
      ssl.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
      ssl.startHandshake();
      IOException lost = lenient.handshakeDone();
      if (lost != null) {
        throw alertOr(ssl.getInputStream(), lost);
      }
      checkNodeName((X509Certificate) ssl.getSession().getPeerCertificates()[0]);
      return new Connection(ssl.getInputStream(), ssl.getOutputStream(), ssl, ssl);
    } catch (IOException | RuntimeException e) {
      raw.close();
      throw e;
    }
  }

  /**
   * Why a TLS connection was lost before its request went out: the node's alert, read from
   * {@code in} (an {@link SSLException} saying why it refused this client), or else
   * {@code lost}.
   */
  private static IOException alertOr(InputStream in, IOException lost) {
    try {
      in.read();
    } catch (SSLException alert) {
      return alert;
    } catch (IOException e) {
      lost.addSuppressed(e);
    }
    return lost;
  }

  private AccrException doesNotAnswer(IOException e) {
    return AccrException.notFound("node %s does not answer: %s", node, e.getMessage());
  }

  private void checkNodeName(X509Certificate cert) {
    String named = TlsIdentity.commonName(cert.getSubjectX500Principal());
    if (expectedName != null && !expectedName.equals(named)) {
      throw AccrException.failed("node %s: its certificate names node '%s', not '%s'", node,
          named, expectedName);
    }
  }

  /** A connection; {@code timed}, when not null, has a timeout until the request is sent. */
  record Connection(InputStream in, OutputStream out, Closeable closer, Socket timed)
      implements Closeable {
    /** Closes the sending side only: the node sees the end, its answer can still come. */
    void halfClose() {
      try {
        switch (closer) {
          case SocketChannel ch -> ch.shutdownOutput();
          case Socket s -> s.shutdownOutput();
          default -> closer.close();
        }
      } catch (IOException | UnsupportedOperationException e) {
        try {
          closer.close();
        } catch (IOException ignored) {
          // Closed either way.
        }
      }
    }

    void requestSent() throws IOException {
      if (timed != null) {
        timed.setSoTimeout(0); // a wait or a dump may take long
      }
    }

    @Override
    public void close() throws IOException {
      closer.close();
    }
  }

  /**
   * Ends a call early from another thread (e.g. on Ctrl-C): see
   * {@link #call(Request, ProgressListener, Consumer, Cancel)}.
   */
  public static final class Cancel {
    private Connection connection;
    private boolean requested;

    /** Asks the node to cancel; the call then reads the node's answer. */
    public synchronized void request() {
      requested = true;
      if (connection != null) {
        connection.halfClose();
      }
    }

    public synchronized boolean requested() {
      return requested;
    }

    synchronized void attach(Connection c) {
      connection = c;
      if (requested) {
        c.halfClose();
      }
    }
  }

  /** An error reported by a node, with the node's stack trace for {@code --stacktrace}. */
  public static final class RemoteException extends AccrException {
    private final String remoteTrace;
    private final String logFile;

    RemoteException(int exitCode, String message, String remoteTrace, String logFile) {
      super(exitCode, message);
      this.remoteTrace = remoteTrace;
      this.logFile = logFile;
    }

    /** The log of the failed operation as the node named it, or empty. */
    public String logFile() {
      return logFile;
    }

    public String remoteTrace() {
      return remoteTrace;
    }
  }
}
