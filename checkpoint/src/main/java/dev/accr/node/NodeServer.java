package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Serves a {@link NodeService} on a UNIX-domain socket and optionally on TCP: one request per
 * connection, each handled on a virtual thread of its own (a {@code wait} may block for long).
 */
public final class NodeServer implements AutoCloseable {
  private final NodeService service;
  private final Path socket;
  private final List<ServerSocketChannel> listeners = new ArrayList<>();
  private final CountDownLatch stopped = new CountDownLatch(1);

  private NodeServer(NodeService service, Path socket) {
    this.service = service;
    this.socket = socket;
  }

  /**
   * Binds the socket (replacing a stale one) and, when {@code tcp} is not null, a TCP port.
   * Fails if a live node already owns the socket.
   */
  public static NodeServer bind(NodeService service, Path socket, InetSocketAddress tcp)
      throws IOException {
    if (Files.exists(socket)) {
      if (NodeClient.isAlive(socket)) {
        throw AccrException.failed("node %s is already running (%s)", service.node().name(), socket);
      }
      Files.delete(socket);
    }
    NodeServer server = new NodeServer(service, socket);
    try {
      ServerSocketChannel unix = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.listeners.add(unix);
      unix.bind(UnixDomainSocketAddress.of(socket));
      if (tcp != null) {
        ServerSocketChannel inet = ServerSocketChannel.open();
        server.listeners.add(inet);
        inet.bind(tcp);
      }
      return server;
    } catch (IOException e) {
      server.close(); // no stale socket behind a node that could not start
      throw AccrException.failed("node %s: cannot listen on %s: %s", service.node().name(),
          tcp == null ? socket : tcp, e.getMessage());
    }
  }

  /** The TCP address actually bound, or null. */
  public SocketAddress tcpAddress() throws IOException {
    return listeners.size() > 1 ? listeners.get(1).getLocalAddress() : null;
  }

  /** Starts accepting on every listener. */
  public void start() {
    for (ServerSocketChannel listener : listeners) {
      Thread.ofPlatform().name("accept-" + listener).daemon().start(() -> accept(listener));
    }
  }

  private void accept(ServerSocketChannel listener) {
    while (listener.isOpen()) {
      try {
        SocketChannel ch = listener.accept();
        Thread.ofVirtual().start(() -> serve(ch));
      } catch (IOException e) {
        if (listener.isOpen()) {
          System.err.println("accept failed: " + e.getMessage());
        }
      }
    }
  }

  private void serve(SocketChannel ch) {
    try (ch) {
      InputStream in = Channels.newInputStream(ch);
      OutputStream out = Channels.newOutputStream(ch);
      Request request = Request.parseDelimitedFrom(in);
      if (request == null) {
        return;
      }
      service.handle(request, caller(ch), response -> {
        synchronized (out) {
          try {
            response.writeDelimitedTo(out);
            out.flush();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      });
    } catch (IOException | UncheckedIOException e) {
      // The client went away; the operation itself has finished or failed on its own.
      System.err.println("connection closed: " + e.getMessage());
    }
  }

  /** Who is at the other end of {@code ch}: local for the UNIX socket, else remote. */
  private static Caller caller(SocketChannel ch) throws IOException {
    SocketAddress peer = ch.getRemoteAddress();
    return peer instanceof InetSocketAddress inet
        ? new Caller(true, inet.toString(), "") : Caller.LOCAL;
  }

  /** Blocks until {@link #close()} is called. */
  public void awaitStop() throws InterruptedException {
    stopped.await();
  }

  @Override
  public void close() {
    for (ServerSocketChannel listener : listeners) {
      try {
        listener.close();
      } catch (IOException ignored) {
        // Closing on shutdown.
      }
    }
    try {
      Files.deleteIfExists(socket);
    } catch (IOException ignored) {
      // A stale socket is replaced by the next node of that name.
    }
    stopped.countDown();
  }

}
