package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.api.BulkReader;
import dev.accr.api.DeviceMemoryServer;
import dev.accr.engine.PageSource;
import dev.accr.engine.ServedMemory;
import dev.accr.image.FaultInjection;
import dev.accr.proto.LazyPagesInfo;
import dev.accr.proto.MigrationStepReply;
import dev.accr.proto.PostCopyFile;
import dev.accr.proto.PostCopyIndex;
import dev.accr.proto.PostCopyRequest;
import dev.accr.proto.PostCopyUnit;
import dev.accr.proto.Request;
import dev.accr.proto.Response;
import dev.accr.proto.RestoreRequest;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The source's end of a post-copy migration ({@link PageFrames}): a connection to the target
 * on which the memory of the stopped process is served by unit — host pages from its page
 * table, device memory through each plugin's {@link DeviceMemoryServer} — in the order the
 * target asks, its first touches before its background pusher, until the target says every
 * unit is in.
 */
final class PageServer implements AutoCloseable {
  /** What is served: a host unit, or a chunk of a plugin's bulk file. */
  private record Unit(int host, DeviceMemoryServer server, String what, long id,
      BulkReader.Chunk chunk) {}

  private final NodeClient target;
  private final NodeClient.Connection connection;
  private final DataInputStream in;
  private final DataOutputStream out;
  /** Whether the target takes eager units unasked (an older one asks for every unit). */
  private boolean targetTakesEager;
  /** Whether the target takes the index before the set is committed (then waits for Go). */
  private boolean targetTakesIndexBeforeSet;
  private volatile ServedMemory memory;
  /**
   * The units of the index, published whole once it is built: the reader of the target's
   * requests, running since the connection opened, sees either none or all of them.
   */
  private volatile List<Unit> units = List.of();
  private final LinkedList<Integer> queue = new LinkedList<>();
  private final AtomicLong bytes = new AtomicLong();
  private LazyPagesInfo figures;
  private MigrationStepReply restored;
  private AccrException refusal;
  private String failure;
  private boolean ended;
  private Thread reader;
  private Thread writer;
  private LinkWatch watch;

  private PageServer(NodeClient target, NodeClient.Connection connection) {
    this.target = target;
    this.connection = connection;
    this.in = new DataInputStream(new BufferedInputStream(connection.in(), 64 << 10));
    this.out = new DataOutputStream(new BufferedOutputStream(connection.out(), 256 << 10));
  }

  /**
   * Opens the connection of migration {@code migration} to {@code target} (before the process
   * is frozen: the handshake is not part of the downtime) and returns once the target takes it;
   * {@code restore} is the restore it runs once {@link #offer} sends the index.
   */
  static PageServer open(NodeClient target, String migration, RestoreRequest restore,
      LinkWatch.Timing timing) {
    NodeClient.Connection c;
    try {
      c = target.open();
    } catch (javax.net.ssl.SSLException e) {
      throw AccrException.failed("node %s: %s", target.name(), target.tlsReason(e));
    } catch (IOException e) {
      throw AccrException.failed("cannot reach node %s: %s", target.name(), e.getMessage());
    }
    PageServer s = new PageServer(target, c);
    try {
      Request.newBuilder().setPostCopy(PostCopyRequest.newBuilder().setMigration(migration)
          .setRestore(restore)).build().writeDelimitedTo(s.out);
      s.out.flush();
      c.requestSent();
      Response r = target.read(s.in, true);
      if (r.hasError()) {
        throw new NodeClient.RemoteException(r.getError().getExitCode(),
            r.getError().getMessage(), r.getError().getStackTrace(), r.getError().getLogFile());
      }
      if (!r.hasPostCopy() || !r.getPostCopy().getReady()) {
        throw AccrException.failed("node %s did not take the post-copy migration",
            target.name());
      }
      s.targetTakesEager = r.getPostCopy().getTakesEagerUnits();
      s.targetTakesIndexBeforeSet = r.getPostCopy().getTakesIndexBeforeSet();
      if (c.timed() != null) {
        TlsClose.bound(c.timed()); // a target that reads nothing must not block the close
      }
      s.watch = new LinkWatch("post-copy-source", timing, s.out, why -> {
        s.end(null, "lost node " + target.name() + " during post-copy: " + why);
        s.closeConnection();
      });
      s.reader = Thread.ofPlatform().name("post-copy-requests").daemon()
          .start(s::readRequests);
      // Started now, not once the process is stopped: it waits for the index's units.
      s.writer = Thread.ofPlatform().name("post-copy-serve").daemon().start(s::serve);
      return s;
    } catch (IOException | RuntimeException e) {
      s.close();
      if (e instanceof AccrException a) {
        throw a;
      }
      throw AccrException.failed("lost the connection to node %s: %s", target.name(),
          e.getMessage());
    }
  }

  /**
   * Whether the target takes the index before the set "final" is committed: it restores
   * meanwhile and starts the process on {@link #go}. An older target takes it after.
   */
  boolean takesIndexBeforeSet() {
    return targetTakesIndexBeforeSet;
  }

  /**
   * Sends the index of {@code served} (the stopped process's memory), which has the target
   * restore the process, and serves the memory from now on. {@code beforeSet}: the set is
   * still being committed (only to a target that {@link #takesIndexBeforeSet}); the process
   * starts there on {@link #go}. Otherwise the set is on the target and it starts at once.
   */
  void offer(ServedMemory served, boolean beforeSet) {
    if (beforeSet && !targetTakesIndexBeforeSet) {
      throw new IllegalStateException("node " + target.name()
          + " takes the index only after the set");
    }
    this.memory = served;
    try {
      List<Integer> eager = targetTakesEager ? served.eagerUnits() : List.of();
      PostCopyIndex index = index(eager).toBuilder().setBeforeSet(beforeSet).build();
      synchronized (out) {
        PageFrames.writeMessage(out, PageFrames.INDEX, index.toByteArray());
        // The restore reads these before the process runs: they follow the index unasked.
        byte[] buffer = new byte[ServedMemory.UNIT_BYTES];
        for (int u : eager) {
          int length = served.pagesOf(u) * 4096;
          served.readHost(u, MemorySegment.ofArray(buffer).asSlice(0, length));
          out.writeByte(PageFrames.UNIT);
          out.writeInt(u);
          out.writeInt(length);
          out.write(buffer, 0, length);
          bytes.addAndGet(length);
        }
        out.flush();
      }
    } catch (IOException e) {
      end(null, "lost node " + target.name() + " before the restore: " + e.getMessage());
    }
  }

  /**
   * The set is committed on the target and the dump succeeded here: the target may start the
   * process (after an index sent before the set). A link lost here fails the restore there.
   */
  void go() {
    try {
      synchronized (out) {
        out.writeByte(PageFrames.GO);
        out.flush();
      }
    } catch (IOException e) {
      end(null, "lost node " + target.name() + " before the restore: " + e.getMessage());
    }
  }

  /**
   * Waits for the target's restore: its reply once the process runs there; throws its failure
   * (with its exit code) or the loss of the connection.
   */
  synchronized MigrationStepReply awaitRestored() throws InterruptedException {
    while (restored == null && refusal == null && !ended) {
      wait();
    }
    if (restored != null) {
      return restored;
    }
    if (refusal != null) {
      throw refusal;
    }
    throw AccrException.failed("%s", failure);
  }

  /** The index of what is served, {@code eager} (ascending) the host units sent unasked. */
  private PostCopyIndex index(List<Integer> eager) {
    int leading = 0;
    while (leading < eager.size() && eager.get(leading) == leading) {
      leading++;
    }
    PostCopyIndex.Builder b = PostCopyIndex.newBuilder().setPid(memory.pid())
        .setEagerUnits(leading).addAllMoreEagerUnits(eager.subList(leading, eager.size()));
    List<Unit> units = new ArrayList<>();
    List<List<PageSource.Run>> host = memory.hostUnits();
    for (int u = 0; u < host.size(); u++) {
      PostCopyUnit.Builder unit = PostCopyUnit.newBuilder().setPid(memory.pidOf(u));
      for (PageSource.Run r : host.get(u)) {
        unit.addVaddr(r.vaddr()).addPages(r.pages());
      }
      b.addHostUnits(unit);
      units.add(new Unit(u, null, null, 0, null));
    }
    for (Map.Entry<String, DeviceMemoryServer> e : memory.devices().entrySet()) {
      for (DeviceMemoryServer.BulkFile f : e.getValue().files()) {
        PostCopyFile.Builder file = PostCopyFile.newBuilder().setPlugin(e.getKey())
            .setWhat(f.what()).setId(f.id());
        for (BulkReader.Chunk c : f.chunks()) {
          if (c.length() <= 0 || c.length() > PageFrames.MAX_UNIT) {
            throw AccrException.failed("post-copy: plugin %s serves a chunk of %d bytes",
                e.getKey(), c.length());
          }
          file.addKeys(c.key()).addLengths(c.length());
          units.add(new Unit(-1, e.getValue(), f.what(), f.id(), c));
        }
        b.addFiles(file);
      }
    }
    this.units = List.copyOf(units);
    return b.build();
  }

  /** The target's frames: units it asks for (urgent ones first in line), then Done. */
  private void readRequests() {
    try {
      while (true) {
        int type = in.read();
        if (type < 0) {
          throw new EOFException("the connection was closed");
        }
        watch.heard();
        switch (type) {
          case PageFrames.HEARTBEAT -> { }
          case PageFrames.FETCH -> {
            int unit = in.readInt();
            boolean urgent = in.readByte() != 0;
            List<Unit> units = this.units;
            if (unit < 0 || unit >= units.size()) {
              throw new IOException("the target asked for unit " + unit + " of "
                  + units.size());
            }
            synchronized (this) {
              if (urgent) {
                queue.addFirst(unit);
              } else {
                queue.addLast(unit);
              }
              notifyAll();
            }
          }
          case PageFrames.RESTORED -> {
            MigrationStepReply r = MigrationStepReply.parseFrom(PageFrames.readMessage(in));
            synchronized (this) {
              restored = r;
              notifyAll();
            }
          }
          case PageFrames.REFUSED -> {
            int code = in.readInt();
            String message = new String(PageFrames.readMessage(in), StandardCharsets.UTF_8);
            synchronized (this) {
              refusal = new NodeClient.RemoteException(code, message, "", "");
              notifyAll();
            }
            end(null, message);
            return;
          }
          case PageFrames.DONE -> {
            LazyPagesInfo f = LazyPagesInfo.parseFrom(PageFrames.readMessage(in));
            if (!f.getFailure().isEmpty()) {
              end(null, "node " + target.name() + " killed the process: " + f.getFailure());
            } else {
              end(f, null);
            }
            return;
          }
          default -> throw new IOException("unknown frame " + type);
        }
      }
    } catch (IOException | RuntimeException e) {
      end(null, "lost node " + target.name() + " during post-copy: " + e.getMessage());
    }
  }

  private synchronized void end(LazyPagesInfo f, String why) {
    if (!ended) {
      ended = true;
      figures = f;
      failure = why;
      notifyAll();
    }
  }

  /** Sends the units asked for, in line, until the end. */
  private void serve() {
    byte[] buffer = new byte[0];
    try {
      while (true) {
        int u;
        synchronized (this) {
          while (queue.isEmpty() && !ended) {
            wait();
          }
          if (ended) {
            return;
          }
          u = queue.removeFirst();
        }
        FaultInjection.step("serve:unit-" + u); // a test may kill this node mid-post-copy
        Unit unit = units.get(u);
        int length = unit.host() >= 0 ? memory.pagesOf(unit.host()) * 4096
            : unit.chunk().length();
        if (buffer.length < length) {
          buffer = new byte[Math.max(length, 1 << 20)];
        }
        MemorySegment into = MemorySegment.ofArray(buffer).asSlice(0, length);
        try {
          if (unit.host() >= 0) {
            memory.readHost(unit.host(), into);
          } else {
            unit.server().read(unit.what(), unit.id(), unit.chunk(), into);
          }
        } catch (RuntimeException e) {
          byte[] why = String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8);
          synchronized (out) {
            PageFrames.writeMessage(out, PageFrames.FAILED, why);
            out.flush();
          }
          end(null, "post-copy: this node could not serve the memory: " + e.getMessage());
          return;
        }
        boolean more;
        synchronized (out) { // heartbeats go between frames
          out.writeByte(PageFrames.UNIT);
          out.writeInt(u);
          out.writeInt(length);
          out.write(buffer, 0, length);
          synchronized (this) {
            more = !queue.isEmpty();
          }
          if (!more) {
            out.flush();
          }
        }
        bytes.addAndGet(length);
      }
    } catch (IOException e) {
      end(null, "lost node " + target.name() + " during post-copy: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Waits until the target has every unit (or its process ended) and returns its figures;
   * throws when the link broke first.
   */
  synchronized LazyPagesInfo awaitEnd() throws InterruptedException {
    while (!ended) {
      wait();
    }
    if (failure != null) {
      throw AccrException.failed("%s", failure);
    }
    return figures;
  }

  /** Bytes of memory sent so far. */
  long bytesSent() {
    return bytes.get();
  }

  @Override
  public void close() {
    end(null, "post-copy abandoned");
    closeConnection();
  }

  private void closeConnection() {
    if (watch != null) {
      watch.close();
    }
    try {
      connection.close();
    } catch (IOException ignored) {
      // closed either way
    }
  }
}
