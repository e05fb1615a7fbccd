package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.engine.Cancellation;
import dev.accr.proto.ErrorReply;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one request of a connection to a node: read within its deadline and bound, then handed to
 * the {@link NodeService}, with the replies written back on the connection.
 */
final class OneRequest {
  private final NodeService service;
  private final ServerLimits limits;

  OneRequest(NodeService service, ServerLimits limits) {
    this.service = service;
    this.limits = limits;
  }

  /**
   * Reads one request within the deadline and bound, and hands it to the service; {@code tls}
   * is the connection's TLS socket, or null for a local or plain TCP one.
   */
  void serve(Inbound inbound, OutputStream out, Caller caller, RequestDeadline deadline,
      Socket tls) throws IOException {
    InputStream in = inbound.in();
    Request request;
    try {
      request = RequestReader.read(in, limits.maxRequestBytes());
    } catch (RequestReader.TooLarge e) {
      limits.log().accept("dropped " + caller.address() + ": " + e.getMessage());
      return;
    } catch (RequestReader.TlsHello e) {
      reply(out, error(AccrException.USAGE, "this node does not use TLS: connect without --tls"));
      return;
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      if (deadline.expired()) {
        throw e;
      }
      reply(out, error(AccrException.USAGE, "malformed request: " + e.getMessage()));
      return;
    }
    if (!deadline.cancel() || request == null) {
      return;
    }
    if (request.hasReceiveSet()) {
      service.receive(request.getReceiveSet(), caller, inbound, response -> {
        try {
          reply(out, response);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      return;
    }
    if (request.hasPostCopy()) {
      if (tls != null) {
        // A source that reads nothing any more must not hold this thread in the close for ever.
        TlsClose.bound(tls);
      }
      service.postCopy(request.getPostCopy(), caller, new PatientInput(in), out);
      return;
    }
    service.handle(request, caller, response -> {
      try {
        reply(out, response);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, watchClient(request, in));
  }

  /**
   * For a dump or restore, watches the connection for the client's end of it: a client that
   * closes its side (Ctrl-C) cancels the operation, which fails as on any error and answers
   * on the half still open. The client sends nothing after its request.
   */
  private static Cancellation watchClient(Request request, InputStream in) {
    if (!request.hasDump() && !request.hasRestore()) {
      return Cancellation.NONE;
    }
    AtomicBoolean gone = new AtomicBoolean();
    Thread.ofVirtual().name("client-watch").start(() -> {
      while (true) {
        try {
          if (in.read() < 0) {
            break;
          }
        } catch (java.net.SocketTimeoutException e) {
          continue; // quiet is not gone
        } catch (IOException e) {
          break;
        }
      }
      gone.set(true);
    });
    String what = request.hasDump() ? "dump" : "restore";
    return () -> {
      if (gone.get()) {
        throw AccrException.failed("%s cancelled: the client went away", what);
      }
    };
  }

  private static void reply(OutputStream out, Response response) throws IOException {
    synchronized (out) {
      response.writeDelimitedTo(out);
      out.flush();
    }
  }

  private static Response error(int code, String message) {
    return Response.newBuilder().setError(ErrorReply.newBuilder().setExitCode(code)
        .setMessage(message)).build();
  }
}
