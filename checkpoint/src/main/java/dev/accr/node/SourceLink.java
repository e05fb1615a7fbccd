package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.engine.LazyRestore;
import dev.accr.engine.PageSource;
import dev.accr.engine.RemoteMemory;
import dev.accr.plugin.RemoteBulk;
import dev.accr.proto.LazyPagesInfo;
import dev.accr.proto.MigrationStepReply;
import dev.accr.proto.PostCopyIndex;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The target's end of a post-copy migration ({@link PageFrames}): the memory of the process
 * that runs here comes from the source node on this connection, a unit at a time, asked for on
 * a first touch (urgent) or by the background pusher (a few units ahead, so that the source
 * sends without a pause). When the connection breaks before every unit is in, the process
 * cannot go on: it is killed, with the reason. When the lazy restore ends, the source is told
 * how the pages came ({@code Done}) and may let its copy go.
 */
final class SourceLink implements RemoteMemory {
  /** Units the pusher asks for ahead of the one it loads, per stream. */
  static final int AHEAD = 4;
  /**
   * How long a restore, all done, waits for the source's Go (its set's commit answered) before
   * it gives up: the source then hears the refusal and its process runs on there.
   */
  static final java.time.Duration GO_WAIT = java.time.Duration.ofMinutes(2);
  /** Units come and wait unused at most this many before reading ahead pauses. */
  private static final int MAX_WAITING = 16;

  private final String source;
  private final DataOutputStream out;
  private final Map<Integer, byte[]> arrived = new HashMap<>();
  private final Set<Integer> requested = new HashSet<>();
  private volatile PostCopyIndex index;
  private volatile PostCopyUnits units;
  /** The set "final" is committed here (an index sent before it waits for that). */
  private boolean committed;
  /** The source's dump succeeded: the process may start (at once after an older source). */
  private boolean go;
  private String broken;
  private boolean done;
  /** Whether the source was told the process runs; Done never goes before that. */
  private boolean restoredSent;
  /** Loading ended before the source was told the process runs: Done follows that. */
  private boolean donePending;
  private volatile LazyRestore lazy;
  private volatile long attachedAt;
  private volatile long runningSince;

  SourceLink(String source, DataOutputStream out) {
    this.source = source;
    this.out = out;
  }

  /** Takes what the source serves; before the restore, so before any unit is asked for. */
  private synchronized void index(PostCopyIndex index) {
    if (this.index != null) {
      throw AccrException.usage("post-copy: a second index");
    }
    PostCopyUnits parsed = new PostCopyUnits(index);
    for (int u = 0; u < index.getEagerUnits(); u++) {
      requested.add(u); // they come unasked, right after the index
    }
    requested.addAll(index.getMoreEagerUnitsList());
    this.units = parsed;
    this.index = index;
    if (!index.getBeforeSet()) {
      committed = true; // sent after the commit, by an older source: no Go follows either
      go = true;
    }
    notifyAll(); // the restore begins once the set is committed
  }

  /** The migration's set "final" is committed on this node. */
  synchronized void committed() {
    committed = true;
    notifyAll();
  }

  private synchronized void go() throws IOException {
    if (index == null) {
      throw new IOException("Go before the index");
    }
    go = true;
    notifyAll();
  }

  /**
   * Waits for the index and the committed set; false when the link ended first (nothing is
   * restored then).
   */
  private synchronized boolean awaitIndex() {
    while ((index == null || !committed) && broken == null && !done) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return index != null && committed && broken == null;
  }

  @Override
  public synchronized void awaitGo() throws IOException {
    long deadline = System.nanoTime() + GO_WAIT.toNanos();
    while (!go && broken == null && !done) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new IOException("post-copy: node " + source + " did not say within "
            + GO_WAIT.toSeconds() + " s that its dump succeeded");
      }
      try {
        wait(left / 1_000_000 + 1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for node " + source);
      }
    }
    if (!go) {
      throw new IOException(broken != null ? broken
          : "post-copy: the link to node " + source + " ended before the process could start");
    }
  }

  /** Tells the source that the process runs here. */
  void restored(MigrationStepReply reply) throws IOException {
    synchronized (out) {
      // The source counts the downtime up to the process's start, not up to this reply.
      PageFrames.writeMessage(out, PageFrames.RESTORED, reply.toBuilder()
          .setRunningUs((System.nanoTime() - runningSince) / 1000).build().toByteArray());
      out.flush();
    }
    boolean sendDone;
    synchronized (this) {
      restoredSent = true;
      sendDone = donePending;
    }
    if (sendDone) {
      sendDone(); // everything came in before the restore had returned (a small process)
    }
  }

  /** Tells the source that the restore failed (nothing is left here), with its exit code. */
  void refused(int exitCode, String message) {
    try {
      synchronized (out) {
        out.writeByte(PageFrames.REFUSED);
        out.writeInt(exitCode);
        byte[] m = String.valueOf(message).getBytes(StandardCharsets.UTF_8);
        out.writeInt(m.length);
        out.write(m);
        out.flush();
      }
    } catch (IOException e) {
      // The source is gone: it gives up on its own.
    }
  }

  /**
   * The process runs with {@code l} loading its memory from here, since {@code runningSince}
   * ({@link System#nanoTime}).
   */
  void attach(LazyRestore l, long runningSince) {
    this.runningSince = runningSince;
    attachedAt = System.nanoTime();
    lazy = l;
    String why;
    synchronized (this) {
      why = broken;
    }
    if (why != null) {
      l.failed(why);
    }
  }

  /**
   * Reads the source's frames until the link ends (Done sent, or the connection broke); once
   * the index is in, {@code restore} restores the process (on another thread: its restore may
   * already touch pages, which come through here).
   */
  void run(DataInputStream in, LinkWatch watch, Runnable restore) {
    // Started before the source stops its process, so that no thread start falls in the stop.
    Thread.ofPlatform().name("post-copy-restore").daemon().start(() -> {
      if (awaitIndex()) {
        restore.run();
      }
    });
    try {
      while (true) {
        int type = in.read();
        if (type < 0) {
          throw new EOFException("the connection was closed");
        }
        watch.heard();
        switch (type) {
          case PageFrames.HEARTBEAT -> { }
          case PageFrames.INDEX -> {
            index(PostCopyIndex.parseFrom(PageFrames.readMessage(in)));
          }
          case PageFrames.UNIT -> {
            int unit = in.readInt();
            int length = in.readInt();
            if (unit < 0 || unit >= units.count() || length < 0 || length > PageFrames.MAX_UNIT) {
              throw new IOException("bad unit frame: unit " + unit + ", " + length + " bytes");
            }
            byte[] data = in.readNBytes(length);
            if (data.length < length) {
              throw new EOFException("a unit cut short");
            }
            synchronized (this) {
              arrived.put(unit, data);
              notifyAll();
            }
          }
          case PageFrames.GO -> go();
          case PageFrames.FAILED -> throw new IOException(
              new String(PageFrames.readMessage(in), StandardCharsets.UTF_8));
          default -> throw new IOException("unknown frame " + type);
        }
      }
    } catch (IOException | RuntimeException e) {
      breakWith(e.getMessage());
    }
  }

  /** The link to the source is lost for {@code why}: the process is killed, saying so. */
  void breakWith(String why) {
    String reason;
    synchronized (this) {
      if (done || broken != null) {
        return;
      }
      reason = String.format("post-copy: lost node %s, which held the process's memory (%s):"
          + " the process cannot go on and was killed", source, why);
      broken = reason;
    }
    LazyRestore l = lazy;
    if (l != null) {
      l.failed(reason); // first, so that the process dies with this reason
    }
    synchronized (this) {
      notifyAll();
    }
  }

  private byte[] fetch(int unit, boolean urgent) throws IOException {
    request(unit, urgent);
    synchronized (this) {
      while (!arrived.containsKey(unit)) {
        if (broken != null) {
          throw new IOException(broken);
        }
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for node " + source);
        }
      }
      return arrived.remove(unit);
    }
  }

  private void request(int unit, boolean urgent) throws IOException {
    synchronized (this) {
      if (broken != null) {
        throw new IOException(broken);
      }
      if (!requested.add(unit)) {
        return;
      }
    }
    try {
      synchronized (out) {
        out.writeByte(PageFrames.FETCH);
        out.writeInt(unit);
        out.writeByte(urgent ? 1 : 0);
        out.flush();
      }
    } catch (IOException e) {
      // The link is lost, whichever end notices first: the process dies saying so.
      breakWith(e.getMessage());
      synchronized (this) {
        throw new IOException(broken != null ? broken : e.getMessage(), e);
      }
    }
  }

  private void prefetch(int from, int end) throws IOException {
    synchronized (this) {
      if (arrived.size() >= MAX_WAITING) {
        return; // units read ahead wait unused: no more until they are taken
      }
    }
    for (int u = from; u < Math.min(end, from + AHEAD); u++) {
      request(u, false);
    }
  }

  /**
   * The lazy restore ended (every unit in, the process gone, or the link lost): tells the
   * source how the pages came, once.
   */
  void finish() {
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
      arrived.clear();
      notifyAll();
      if (broken != null) {
        return;
      }
      if (!restoredSent) {
        donePending = true;
        return;
      }
    }
    sendDone();
  }

  private void sendDone() {
    LazyRestore l = lazy;
    // A restore that failed here (a unit that could not be loaded) killed the process: the
    // source must hear that, not that the target has it all.
    LazyRestore.Progress p = l == null ? null : l.progress();
    LazyPagesInfo figures = p == null ? LazyPagesInfo.getDefaultInstance()
        : LazyInfos.toInfo(p, false).toBuilder().setDone(p.failure().isEmpty())
            .setMillis((System.nanoTime() - attachedAt) / 1_000_000).build();
    try {
      synchronized (out) {
        PageFrames.writeMessage(out, PageFrames.DONE, figures.toByteArray());
        out.flush();
      }
    } catch (IOException e) {
      // The source is gone; it has nothing more to do for this process.
    }
  }

  @Override
  public PageSource hostPages(int pid) {
    PostCopyIndex i = index;
    if (i == null || !units.serves(pid)) {
      throw AccrException.usage("post-copy: the source serves process %d, not %d",
          i == null ? 0 : i.getPid(), pid);
    }
    // The process's units: a range of the index's (all of them for a lone process).
    int first = units.firstOf(pid);
    List<List<PageSource.Run>> mine = units.hostUnitsOf(pid);
    return new PageSource() {
      @Override
      public List<List<Run>> units() {
        return mine;
      }

      @Override
      public void load(int unit, RunSink sink) throws IOException {
        load(unit, true, sink);
      }

      @Override
      public void load(int unit, boolean byFault, RunSink sink) throws IOException {
        if (!byFault) {
          prefetch(first + unit + 1, first + mine.size());
        }
        MemorySegment data = MemorySegment.ofArray(fetch(first + unit, byFault));
        long at = 0;
        for (Run r : mine.get(unit)) {
          if (at + (long) r.pages() * 4096 > data.byteSize()) {
            throw new IOException("unit " + unit + " holds " + data.byteSize() + " bytes");
          }
          sink.accept(r, data, at);
          at += (long) r.pages() * 4096;
        }
      }

      @Override
      public String describe() {
        return "node " + source;
      }

      @Override
      public void close() {
        finish();
      }
    };
  }

  @Override
  public RemoteBulk bulk() {
    if (index == null) {
      throw AccrException.usage("post-copy: no index from the source");
    }
    return (plugin, what, id) -> {
      PostCopyUnits.FileUnits f = units.file(plugin, what, id);
      if (f == null && !units.servesPlugin(plugin)) {
        return null; // read from the set
      }
      // A plugin that serves its memory but wrote no such bulk file: nothing of this one.
      return new ServedBulkFile(f, new ServedBulkFile.Units() {
        @Override
        public byte[] fetch(int unit, boolean urgent) throws IOException {
          return SourceLink.this.fetch(unit, urgent);
        }

        @Override
        public void prefetch(int from, int end) throws IOException {
          SourceLink.this.prefetch(from, end);
        }

        @Override
        public boolean pushing() {
          LazyRestore l = lazy;
          return l != null && l.pushing();
        }
      });
    };
  }
}
