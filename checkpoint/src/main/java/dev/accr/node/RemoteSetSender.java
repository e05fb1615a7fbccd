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
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Streams an image set into another node's image store ({@link SetFrames}): the files of a
 * dump go over one connection as they are written, from as many writer threads as the dump
 * has, each frame sent whole. Nothing is written on this node. A connection that breaks makes
 * the next write fail (so the dump fails and its process runs on); the receiver then drops
 * what it got.
 */
public final class RemoteSetSender implements RemoteSet {
  private static final int BUFFER = 256 << 10;

  private final NodeClient client;
  private final NodeClient.Connection connection;
  private final DataOutputStream out;
  private final AtomicInteger files = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();
  private final ThreadLocal<byte[]> scratch = ThreadLocal.withInitial(() -> new byte[BUFFER]);
  private boolean broken;
  private boolean ended;
  private ReceiveSetReply reply;

  private RemoteSetSender(NodeClient client, NodeClient.Connection connection) {
    this.client = client;
    this.connection = connection;
    this.out = new DataOutputStream(new BufferedOutputStream(connection.out(), BUFFER));
  }

  /**
   * Asks node {@code client} to receive the set {@code request} names and returns once it is
   * ready for the files: a refusal (no such directory, a set already there, a path outside its
   * image root) comes back as the node's error before anything is dumped.
   */
  public static RemoteSetSender open(NodeClient client, ReceiveSetRequest request) {
    NodeClient.Connection c;
    try {
      c = client.open();
    } catch (javax.net.ssl.SSLException e) {
      throw AccrException.failed("node %s: %s", client.name(), client.tlsReason(e));
    } catch (IOException e) {
      throw AccrException.failed("cannot reach node %s: %s", client.name(), e.getMessage());
    }
    RemoteSetSender sender = new RemoteSetSender(client, c);
    try {
      Request.newBuilder().setReceiveSet(request).build().writeDelimitedTo(c.out());
      c.out().flush();
      c.requestSent();
      Response r = sender.response(true);
      if (!r.hasReceiveSet() || !r.getReceiveSet().getReady()) {
        throw AccrException.failed("node %s did not accept the set", client.name());
      }
      return sender;
    } catch (IOException | RuntimeException e) {
      sender.closeConnection();
      if (e instanceof AccrException a) {
        throw a;
      }
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
    int file = files.incrementAndGet();
    synchronized (this) {
      check();
      try {
        out.writeByte(SetFrames.OPEN);
        out.writeInt(file);
        out.writeShort(n.length);
        out.write(n);
      } catch (IOException e) {
        throw failed(e);
      }
    }
    return new RemoteFile(file);
  }

  @Override
  public void commit(InventoryEntry.Builder inventory) throws IOException {
    byte[] inv = inventory.build().toByteArray();
    synchronized (this) {
      check();
      try {
        out.writeByte(SetFrames.COMMIT);
        out.writeInt(inv.length);
        out.write(inv);
        out.flush();
      } catch (IOException e) {
        throw failed(e);
      }
      ended = true;
      Response r = response(false); // the node's error, if it refused, is thrown here
      reply = r.getReceiveSet();
    }
  }

  @Override
  public synchronized void close() {
    if (!ended && !broken) {
      try {
        out.writeByte(SetFrames.ABORT);
        out.flush();
      } catch (IOException ignored) {
        // The receiver drops the set when the connection ends either way.
      }
    }
    ended = true;
    closeConnection();
  }

  private void closeConnection() {
    try {
      connection.close();
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

  /** A write failed: the receiver's reason when it gave one, else the connection's. */
  private IOException failed(IOException e) {
    broken = true;
    try {
      Response r = client.read(connection.in(), false);
      if (r.hasError()) {
        return new IOException("node " + client.name() + ": " + r.getError().getMessage());
      }
    } catch (IOException | RuntimeException ignored) {
      // No answer: the connection itself is gone.
    }
    closeConnection();
    return new IOException("lost the connection to node " + client.name() + ": "
        + e.getMessage());
  }

  private Response response(boolean first) throws IOException {
    Response r = client.read(connection.in(), first);
    if (r.hasError()) {
      throw new NodeClient.RemoteException(r.getError().getExitCode(),
          "node " + client.name() + ": " + r.getError().getMessage(), r.getError().getStackTrace(),
          r.getError().getLogFile());
    }
    return r;
  }

  private void data(int file, ByteBuffer[] srcs, int offset, int length, long total)
      throws IOException {
    byte[] buf = scratch.get();
    synchronized (this) {
      check();
      try {
        for (long left = total; left > 0; ) {
          int frame = (int) Math.min(left, SetFrames.MAX_DATA);
          out.writeByte(SetFrames.DATA);
          out.writeInt(file);
          out.writeInt(frame);
          for (int sent = 0; sent < frame; ) {
            ByteBuffer b = next(srcs, offset, length);
            int n = Math.min(Math.min(b.remaining(), buf.length), frame - sent);
            if (b.hasArray()) {
              out.write(b.array(), b.arrayOffset() + b.position(), n);
              b.position(b.position() + n);
            } else {
              b.get(buf, 0, n);
              out.write(buf, 0, n);
            }
            sent += n;
          }
          left -= frame;
        }
        out.flush(); // whole frames only: the receiver never waits in the middle of one
      } catch (IOException e) {
        throw failed(e);
      }
    }
    bytes.addAndGet(total);
  }

  private static ByteBuffer next(ByteBuffer[] srcs, int offset, int length) {
    for (int i = offset; i < offset + length; i++) {
      if (srcs[i].hasRemaining()) {
        return srcs[i];
      }
    }
    throw new IllegalStateException("no bytes left");
  }

  private void closeFile(int file) throws IOException {
    synchronized (this) {
      check();
      try {
        out.writeByte(SetFrames.CLOSE);
        out.writeInt(file);
      } catch (IOException e) {
        throw failed(e);
      }
    }
  }

  /** One file of the set, its bytes sent as they are written. */
  private final class RemoteFile implements GatheringByteChannel {
    private final int file;
    private boolean open = true;

    RemoteFile(int file) {
      this.file = file;
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
        data(file, srcs, offset, length, total);
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
        closeFile(file);
      }
    }
  }
}
