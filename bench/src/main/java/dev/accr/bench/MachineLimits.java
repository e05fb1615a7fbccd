package dev.accr.bench;

import dev.accr.api.ZeroedMemory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The machine's own limits for the bytes a dump writes and a restore reads, measured without
 * accr: {@code threads} plain files written in 1 MiB writes and synced, as a dump writes its
 * pages files (from a source of {@link #SOURCE} bytes, larger than any cache, as a process's
 * memory is); read back into one reused buffer per reader; and read back into freshly mapped
 * memory (huge-page aligned and advised, as page frames are), which is what a restore does and
 * costs what the kernel takes to fault in fresh memory. Each figure is GB/s of {@code bytes}.
 */
final class MachineLimits implements AutoCloseable {
  private static final int IO = 1 << 20;
  private static final long REGION = 64L << 20;
  private static final long SOURCE = 256L << 20;

  private final Path dir;
  private final int threads;
  private final long bytes;
  private final Arena sourceArena = Arena.ofShared();
  private final MemorySegment source;
  private final ExecutorService pool;

  MachineLimits(Path dir, int threads, long bytes) {
    this.dir = dir;
    this.threads = threads;
    this.bytes = bytes;
    this.source = ZeroedMemory.allocate(sourceArena,
        Math.min(SOURCE, (Math.max(IO, bytes) + IO - 1) & -IO));
    SplittableRandom random = new SplittableRandom(11);
    for (long o = 0; o < source.byteSize(); o += 8) {
      source.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, o, random.nextLong());
    }
    this.pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform()
        .name("bench-limit-", 0).daemon().factory());
  }

  private Path file(int t) {
    return dir.resolve("accr-bench-limit-" + ProcessHandle.current().pid() + "-" + t);
  }

  private long share(int t) {
    long pages = bytes / 4096;
    return (pages / threads + (t < pages % threads ? 1 : 0)) * 4096;
  }

  /** GB/s writing {@code bytes} in {@code threads} files, synced; the files are kept. */
  double write() throws IOException {
    deleteFiles();
    return timed(t -> {
      try (FileChannel ch = FileChannel.open(file(t), StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE)) {
        long from = (source.byteSize() / threads * t) & -IO;
        for (long left = share(t); left > 0; ) {
          if (from + IO > source.byteSize()) {
            from = 0;
          }
          ByteBuffer piece = source.asSlice(from, Math.min(IO, left)).asByteBuffer();
          left -= piece.remaining();
          from += IO;
          while (piece.hasRemaining()) {
            ch.write(piece);
          }
        }
        ch.force(true);
      }
    });
  }

  /** GB/s reading the files of {@link #write} into one reused buffer per reader. */
  double read() throws IOException {
    return timed(t -> {
      try (FileChannel ch = FileChannel.open(file(t), StandardOpenOption.READ)) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(IO);
        for (long at = 0, size = ch.size(); at < size; ) {
          buffer.clear();
          int n = ch.read(buffer, at);
          if (n < 0) {
            break;
          }
          at += n;
        }
      }
    });
  }

  /**
   * GB/s reading the files of {@link #write} into fresh memory, mapped in regions of 64 MiB
   * as a restored process's frames are, and freeing it afterwards (outside the time).
   */
  double readIntoFreshMemory() throws IOException {
    List<Arena> arenas = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      arenas.add(Arena.ofShared());
    }
    try {
      return timed(t -> {
        try (FileChannel ch = FileChannel.open(file(t), StandardOpenOption.READ)) {
          long size = ch.size();
          MemorySegment region = MemorySegment.NULL;
          long used = 0;
          for (long at = 0; at < size; ) {
            int length = (int) Math.min(IO, size - at);
            if (region.byteSize() - used < length) {
              region = ZeroedMemory.allocate(arenas.get(t), REGION);
              used = 0;
            }
            ByteBuffer into = region.asSlice(used, length).asByteBuffer();
            while (into.hasRemaining()) {
              if (ch.read(into, at + into.position()) < 0) {
                throw new IOException("short file " + file(t));
              }
            }
            used += length;
            at += length;
          }
        }
      });
    } finally {
      arenas.forEach(Arena::close);
    }
  }

  /** Runs {@code body} for every thread at once; GB/s of {@code bytes} over the slowest. */
  private double timed(ThreadBody body) throws IOException {
    List<Future<?>> futures = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      int index = t;
      futures.add(pool.submit((Callable<Void>) () -> {
        body.run(index);
        return null;
      }));
    }
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof IOException io) {
          throw io;
        }
        throw new IllegalStateException(e.getCause());
      }
    }
    return bytes / (double) (System.nanoTime() - t0);
  }

  @FunctionalInterface
  private interface ThreadBody {
    void run(int thread) throws IOException;
  }

  /** Deletes the files of {@link #write}, so that they take no memory while accr runs. */
  void deleteFiles() throws IOException {
    for (int t = 0; t < threads; t++) {
      Files.deleteIfExists(file(t));
    }
  }

  @Override
  public void close() throws IOException {
    pool.close();
    sourceArena.close();
    try {
      deleteFiles();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
