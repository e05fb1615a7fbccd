package dev.accr.engine;

import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.image.ChunkAt;
import dev.accr.image.ImageKind;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The host pages of one process of a local image set, served chunk by chunk: a unit is one
 * stored chunk of a {@code pages-<n>.img} file, read by offset and checked (its checksum; the
 * file's footer is not, since the file is not read whole) when a page of it is first touched or
 * pushed. A damaged chunk found this way fails the load: by then the process runs, so it is
 * killed, as with CRIU's lazy pages.
 */
final class ImagePageSource implements PageSource {
  private static final int PAGE = MemoryView.PAGE_SIZE;

  private final ImageSet set;
  private final int pid;
  private final List<PageChunkEntry> chunks;
  private final List<List<Run>> units = new ArrayList<>();
  /** One reader of single chunks per pages file and thread role, opened on first use. */
  private final Map<Integer, ChunkAt> readers = new HashMap<>();
  private boolean closed;

  ImagePageSource(ImageSet set, int pid) {
    this.set = set;
    this.pid = pid;
    this.chunks = set.processes().get(pid).chunks();
    for (PageChunkEntry c : chunks) {
      List<Run> runs = new ArrayList<>(c.getRunsCount());
      for (PageRun r : c.getRunsList()) {
        runs.add(new Run(r.getVaddr(), r.getNrPages()));
      }
      units.add(runs);
    }
  }

  @Override
  public List<List<Run>> units() {
    return units;
  }

  @Override
  public void load(int unit, RunSink sink) throws IOException {
    PageChunkEntry c = chunks.get(unit);
    long pages = c.getRunsList().stream().mapToLong(PageRun::getNrPages).sum();
    if (pages <= 0 || pages * PAGE > Integer.MAX_VALUE) {
      throw new CorruptImageException("pagemap-" + pid + ".img", "chunk at offset "
          + c.getFileOffset() + " of pages-" + c.getPagesFile() + ".img: " + pages + " pages");
    }
    // Readers are not shared between threads: one load at a time per file (chunks are small).
    ChunkAt reader = reader(c.getPagesFile());
    synchronized (reader) {
      MemorySegment data = reader.read(c.getFileOffset(), (int) (pages * PAGE),
          c.getStoredLength());
      long at = 0;
      for (Run r : units.get(unit)) {
        sink.accept(r, data, at);
        at += (long) r.pages() * PAGE;
      }
    }
  }

  private synchronized ChunkAt reader(int file) throws IOException {
    if (closed) {
      throw new IOException("the images of " + set.dir() + " were released");
    }
    ChunkAt r = readers.get(file);
    if (r == null) {
      r = ChunkAt.open(set.dir().resolve(ImageKind.PAGES.fileName(file)), set.id());
      readers.put(file, r);
    }
    return r;
  }

  @Override
  public String describe() {
    return "images in " + set.dir();
  }

  @Override
  public synchronized void close() {
    closed = true;
    for (ChunkAt r : readers.values()) {
      try {
        r.close();
      } catch (IOException ignored) {
        // read-only files: nothing to lose
      }
    }
    readers.clear();
  }
}
