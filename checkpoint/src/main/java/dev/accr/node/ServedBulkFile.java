package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.api.BulkReader;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One bulk file a post-copy source serves, read chunk by chunk over the {@link SourceLink}: a
 * chunk the restore reads while the background pusher runs is a push (the next few are asked
 * for ahead), any other a first touch (urgent).
 */
final class ServedBulkFile implements BulkReader {
  /** The link's units, as this file reads them. */
  interface Units {
    /** Unit {@code unit}'s bytes, once they came (asked for now if they were not yet). */
    byte[] fetch(int unit, boolean urgent) throws IOException;

    /** Asks for a few of the units from {@code from} (below {@code end}) ahead. */
    void prefetch(int from, int end) throws IOException;

    /** Whether the background pusher is loading (a read is then not a first touch). */
    boolean pushing();
  }

  private final PostCopyUnits.FileUnits file;
  private final Units units;
  private final List<Chunk> chunks = new ArrayList<>();

  /** {@code file}: the file's units in the index, or null for a file of nothing. */
  ServedBulkFile(PostCopyUnits.FileUnits file, Units units) {
    this.file = file;
    this.units = units;
    if (file != null) {
      for (int i = 0; i < file.file().getKeysCount(); i++) {
        chunks.add(new Chunk(file.file().getKeys(i), file.file().getLengths(i)));
      }
    }
  }

  @Override
  public List<Chunk> chunks() {
    return chunks;
  }

  @Override
  public void read(Chunk chunk, MemorySegment into) {
    Integer i = file == null ? null : file.byKey().get(chunk.key());
    if (i == null) {
      throw AccrException.usage("post-copy: no chunk at 0x%x", chunk.key());
    }
    boolean urgent = !units.pushing();
    try {
      if (!urgent) {
        units.prefetch(file.first() + i + 1, file.first() + chunks.size());
      }
      byte[] data = units.fetch(file.first() + i, urgent);
      if (data.length != chunk.length() || into.byteSize() < data.length) {
        throw new IOException("chunk at 0x" + Long.toHexString(chunk.key()) + ": "
            + data.length + " bytes, expected " + chunk.length());
      }
      MemorySegment.copy(MemorySegment.ofArray(data), 0, into, 0, data.length);
    } catch (IOException e) {
      throw AccrException.failed("%s", e.getMessage());
    }
  }

  @Override
  public void forEach(int threads, ChunkConsumer consumer) {
    for (Chunk c : chunks) {
      MemorySegment m = MemorySegment.ofArray(new byte[c.length()]);
      read(c, m);
      consumer.accept(c.key(), m);
    }
  }

  @Override
  public void close() {}
}
