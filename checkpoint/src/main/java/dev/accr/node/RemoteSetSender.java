package dev.accr.node;

import com.google.protobuf.ByteString;
import dev.accr.api.AccrException;
import dev.accr.image.CheckpointId;
import dev.accr.image.RemoteSet;
import dev.accr.proto.InventoryEntry;
import dev.accr.proto.ReceiveSetReply;
import dev.accr.proto.ReceiveSetRequest;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Streams an image set into another node's image store ({@link SetFrames}): the files of a
 * dump go out as they are written, from as many writer threads as the dump has. When the
 * receiver takes several connections (streams), each writer thread sends on one of its own
 * (given in turn), a file's frames numbered so that the receiver takes them in order whichever
 * connection brought them: the writers send, and the receiver checks and writes, in parallel
 * and never wait for one another. A receiver that knows one connection only gets everything
 * on it.
 * Nothing is written on this node. A connection that breaks makes the next write on any of
 * them fail (so the dump fails and its process runs on); the receiver then drops what it got.
 */
public final class RemoteSetSender implements RemoteSet {
  private final NodeClient client;
  /** The first connection, which commits, then the streams that joined it. */
  private final List<SetStream> streams;
  private final AtomicInteger files = new AtomicInteger();
  /** The connection of each writer thread, given in turn. */
  private final AtomicInteger nextHome = new AtomicInteger();
  private final ThreadLocal<SetStream> homes;
  private final AtomicLong bytes = new AtomicLong();
  private volatile boolean broken;
  private volatile boolean ended;
  private ReceiveSetReply reply;

  private RemoteSetSender(NodeClient client, List<SetStream> streams) {
    this.client = client;
    this.streams = streams;
    this.homes = ThreadLocal.withInitial(() -> streams.get(
        Math.floorMod(nextHome.getAndIncrement(), streams.size())));
  }

  /**
   * Asks node {@code client} to receive the set {@code request} names and returns once it is
   * ready for the files: a refusal (no such directory, a set already there, a path outside its
   * image root) comes back as the node's error before anything is dumped.
   */
  public static RemoteSetSender open(NodeClient client, ReceiveSetRequest request) {
    return open(client, request, 1);
  }

  /**
   * As {@link #open(NodeClient, ReceiveSetRequest)}, over up to {@code streams} connections
   * (as many as the receiver takes). Over TLS the set goes over one connection: with the
   * decryption spread over several, a dump on a machine of two cores was slower, not faster.
   */
  public static RemoteSetSender open(NodeClient client, ReceiveSetRequest request,
      int streams) {
    List<SetStream> opened = new ArrayList<>();
    try {
      NodeClient.Connection c = connection(client);
      opened.add(new SetStream(c));
      int wanted = c.closer() instanceof javax.net.ssl.SSLSocket ? 1 : streams;
      ReceiveSetRequest first = wanted > 1 ? request.toBuilder().setStreams(wanted).build()
          : request;
      ReceiveSetReply ready = ready(client, c, first);
      int taken = Math.min(wanted, ready.getStreams());
      for (int i = 1; i < taken; i++) {
        connect(client, ReceiveSetRequest.newBuilder().setJoinKey(ready.getJoinKey()).build(),
            opened);
      }
      return new RemoteSetSender(client, List.copyOf(opened));
    } catch (RuntimeException e) {
      for (SetStream s : opened) {
        closeQuietly(s);
      }
      throw e;
    }
  }

  /** Opens a connection, sends {@code request} on it and reads the receiver's ready. */
  private static ReceiveSetReply connect(NodeClient client, ReceiveSetRequest request,
      List<SetStream> opened) {
    NodeClient.Connection c = connection(client);
    opened.add(new SetStream(c));
    return ready(client, c, request);
  }

  private static NodeClient.Connection connection(NodeClient client) {
    try {
      return client.open();
    } catch (javax.net.ssl.SSLException e) {
      throw AccrException.failed("node %s: %s", client.name(), client.tlsReason(e));
    } catch (IOException e) {
      throw AccrException.failed("cannot reach node %s: %s", client.name(), e.getMessage());
    }
  }

  /** Sends {@code request} on {@code c} and reads the receiver's ready. */
  private static ReceiveSetReply ready(NodeClient client, NodeClient.Connection c,
      ReceiveSetRequest request) {
    try {
      Request.newBuilder().setReceiveSet(request).build().writeDelimitedTo(c.out());
      c.out().flush();
      c.requestSent();
      Response r = response(client, c, true);
      if (!r.hasReceiveSet() || !r.getReceiveSet().getReady()) {
        throw AccrException.failed("node %s did not accept the set", client.name());
      }
      return r.getReceiveSet();
    } catch (IOException e) {
      throw AccrException.failed("lost the connection to node %s: %s", client.name(),
          e.getMessage());
    }
  }

  /** A request for a set named {@code dir} on the receiver, of checkpoint {@code id}. */
  public static ReceiveSetRequest.Builder request(CheckpointId id) {
    return ReceiveSetRequest.newBuilder().setCheckpointId(ByteString.copyFrom(id.bytes()));
  }

  /** Bytes of file data sent so far. */
  public long bytesSent() {
    return bytes.get();
  }

  /** Connections the set goes over. */
  public int streams() {
    return streams.size();
  }

  /** The connections, the first one first. */
  List<SetStream> connections() {
    return streams;
  }

  /** The receiver's answer to the commit, or null before it. */
  public synchronized ReceiveSetReply reply() {
    return reply;
  }

  @Override
  public GatheringByteChannel create(String name) throws IOException {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    if (n.length == 0 || n.length > SetFrames.MAX_NAME) {
      throw new IOException("not a file name of a set: " + name);
    }
    check();
    return new RemoteFile(files.incrementAndGet(), n);
  }

  @Override
  public void commit(InventoryEntry.Builder inventory) throws IOException {
    byte[] inv = inventory.build().toByteArray();
    synchronized (this) {
      check();
      SetStream s = null;
      try {
        for (SetStream joined : streams.subList(1, streams.size())) {
          s = joined;
          joined.end();
        }
        s = streams.getFirst();
        s.commit(inv);
      } catch (IOException e) {
        throw failed(s, e);
      }
      ended = true;
      // The node's error, if it refused, is thrown here.
      reply = response(client, streams.getFirst().connection(), false).getReceiveSet();
    }
  }

  @Override
  public synchronized void close() {
    if (!ended && !broken) {
      for (SetStream s : streams) {
        try {
          s.abort();
        } catch (IOException ignored) {
          // The receiver drops the set when a connection ends either way.
        }
      }
    }
    ended = true;
    for (SetStream s : streams) {
      closeQuietly(s);
    }
  }

  private static void closeQuietly(SetStream s) {
    try {
      s.connection().close();
    } catch (IOException ignored) {
      // Closed either way.
    }
  }

  private void check() throws IOException {
    if (broken) {
      throw new IOException("the connection to node " + client.name() + " is broken");
    }
    if (ended) {
      throw new ClosedChannelException();
    }
  }

  /**
   * A write on {@code s} failed: the set is broken, on every connection. Returns the
   * receiver's reason when it gave one, else the connection's.
   */
  private IOException failed(SetStream s, IOException e) {
    broken = true;
    try {
      Response r = client.read(s.connection().in(), false);
      if (r.hasError()) {
        return new IOException("node " + client.name() + ": " + r.getError().getMessage());
      }
    } catch (IOException | RuntimeException ignored) {
      // No answer: the connection itself is gone.
    }
    closeQuietly(s);
    return new IOException("lost the connection to node " + client.name() + ": "
        + e.getMessage());
  }

  private static Response response(NodeClient client, NodeClient.Connection c, boolean first)
      throws IOException {
    Response r = client.read(c.in(), first);
    if (r.hasError()) {
      throw new NodeClient.RemoteException(r.getError().getExitCode(),
          "node " + client.name() + ": " + r.getError().getMessage(), r.getError().getStackTrace(),
          r.getError().getLogFile());
    }
    return r;
  }

  /**
   * One file of the set, its bytes sent as they are written, each write on the connection of
   * the thread that makes it. Its first bytes (a header) wait for the next write, so that they
   * go out together.
   */
  private final class RemoteFile implements GatheringByteChannel {
    /** Bytes a file may hold back before it is opened on a connection. */
    private static final int FIRST_BYTES = 4096;

    private final int file;
    private final byte[] name;
    private final ByteBuffer first = ByteBuffer.allocate(FIRST_BYTES);
    /** The file's frames sent so far, over several connections; null over one. */
    private final AtomicInteger turns = streams.size() > 1 ? new AtomicInteger() : null;
    private boolean opened;
    private boolean open = true;

    RemoteFile(int file, byte[] name) {
      this.file = file;
      this.name = name;
    }

    /** This thread's connection, the file opened on it first if it is not yet. */
    private SetStream stream() throws IOException {
      SetStream s = homes.get();
      if (!opened) {
        try {
          s.open(file, name, turns, first.flip());
        } catch (IOException e) {
          throw failed(s, e);
        }
        opened = true;
      }
      return s;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      if (!open) {
        throw new ClosedChannelException();
      }
      long total = 0;
      for (int i = offset; i < offset + length; i++) {
        total += srcs[i].remaining();
      }
      if (total > 0) {
        check();
        if (!opened && total <= first.remaining()) {
          for (int i = offset; i < offset + length; i++) {
            first.put(srcs[i]);
          }
        } else {
          SetStream s = stream();
          try {
            s.data(file, turns, srcs, offset, length, total);
          } catch (IOException e) {
            throw failed(s, e);
          }
        }
        bytes.addAndGet(total);
      }
      return total;
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
      return write(srcs, 0, srcs.length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return (int) write(new ByteBuffer[] {src}, 0, 1);
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void close() throws IOException {
      if (open) {
        open = false;
        check();
        SetStream s = stream();
        try {
          s.close(file, turns == null ? 0 : turns.incrementAndGet());
        } catch (IOException e) {
          throw failed(s, e);
        }
      }
    }
  }
}
