package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.image.ProgressListener;
import dev.accr.proto.PingRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A client of one node: by name (its socket in the run directory) or by {@code HOST:PORT}.
 * Each call opens a connection, sends one request and reads responses until the final one.
 */
public final class NodeClient {
  private final String node;
  private final SocketAddress address;

  private NodeClient(String node, SocketAddress address) {
    this.node = node;
    this.address = address;
  }

  /** A client for {@code nameOrHostPort}; a name must have a socket in {@code run}. */
  public static NodeClient of(String nameOrHostPort, RunDirectory run) {
    int colon = nameOrHostPort.lastIndexOf(':');
    if (colon > 0) {
      String host = nameOrHostPort.substring(0, colon);
      try {
        int port = Integer.parseInt(nameOrHostPort.substring(colon + 1));
        return new NodeClient(nameOrHostPort, new InetSocketAddress(host, port));
      } catch (NumberFormatException e) {
        throw AccrException.usage("--node %s: port is not a number", nameOrHostPort);
      }
    }
    RunDirectory.checkName(nameOrHostPort);
    Path socket = run.socket(nameOrHostPort);
    if (!Files.exists(socket)) {
      throw AccrException.notFound("no node '%s' is running (no socket %s)", nameOrHostPort, socket);
    }
    return new NodeClient(nameOrHostPort, UnixDomainSocketAddress.of(socket));
  }

  /** True when a node answers a ping on {@code socket}. */
  public static boolean isAlive(Path socket) {
    try {
      new NodeClient(socket.toString(), UnixDomainSocketAddress.of(socket))
          .call(Request.newBuilder().setPing(PingRequest.getDefaultInstance()).build(),
              ProgressListener.NONE);
      return true;
    } catch (AccrException e) {
      return false;
    }
  }

  /**
   * Sends {@code request} and returns the final response; progress goes to {@code progress};
   * an error reply is thrown as an {@link AccrException} with the node's exit code.
   */
  public Response call(Request request, ProgressListener progress) {
    try (SocketChannel ch = open()) {
      OutputStream out = Channels.newOutputStream(ch);
      request.writeDelimitedTo(out);
      out.flush();
      InputStream in = Channels.newInputStream(ch);
      while (true) {
        Response r = Response.parseDelimitedFrom(in);
        if (r == null) {
          throw AccrException.failed("node %s closed the connection without an answer", node);
        }
        switch (r.getKindCase()) {
          case PROGRESS -> progress.progress(r.getProgress().getPhase(), r.getProgress().getDone(),
              r.getProgress().getTotal());
          case ERROR -> throw new RemoteException(r.getError().getExitCode(),
              r.getError().getMessage(), r.getError().getStackTrace());
          default -> {
            return r;
          }
        }
      }
    } catch (IOException e) {
      throw AccrException.notFound("node %s does not answer: %s", node, e.getMessage());
    }
  }

  private SocketChannel open() throws IOException {
    SocketChannel ch = address instanceof UnixDomainSocketAddress
        ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
    try {
      ch.connect(address);
      return ch;
    } catch (IOException e) {
      ch.close();
      throw e;
    }
  }

  /** An error reported by a node, with the node's stack trace for {@code --stacktrace}. */
  public static final class RemoteException extends AccrException {
    private final String remoteTrace;

    RemoteException(int exitCode, String message, String remoteTrace) {
      super(exitCode, message);
      this.remoteTrace = remoteTrace;
    }

    public String remoteTrace() {
      return remoteTrace;
    }
  }
}
