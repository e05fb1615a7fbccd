package dev.accr.image;

import dev.accr.proto.BytesMovedEntry;
import java.util.concurrent.atomic.LongAdder;

/**
 * Bytes one source of bulk data moved in a dump or restore, added to from many threads at
 * once: read, written, stored and skipped, with the meaning {@link BytesMovedEntry} gives them.
 */
public final class ByteCounts {
  private final LongAdder read = new LongAdder();
  private final LongAdder written = new LongAdder();
  private final LongAdder stored = new LongAdder();
  private final LongAdder skipped = new LongAdder();

  public void addRead(long bytes) {
    read.add(bytes);
  }

  public void addWritten(long bytes) {
    written.add(bytes);
  }

  public void addStored(long bytes) {
    stored.add(bytes);
  }

  public void addSkipped(long bytes) {
    skipped.add(bytes);
  }

  public long read() {
    return read.sum();
  }

  public long written() {
    return written.sum();
  }

  public long stored() {
    return stored.sum();
  }

  public long skipped() {
    return skipped.sum();
  }

  /** True when nothing was counted. */
  public boolean isEmpty() {
    return read() == 0 && written() == 0 && stored() == 0 && skipped() == 0;
  }

  /** These counts as the entry of {@code source}. */
  public BytesMovedEntry toEntry(String source) {
    return BytesMovedEntry.newBuilder().setSource(source).setBytesRead(read())
        .setBytesWritten(written()).setBytesStored(stored()).setBytesSkipped(skipped()).build();
  }
}
