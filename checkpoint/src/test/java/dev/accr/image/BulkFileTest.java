package dev.accr.image;

import static dev.accr.testkit.ImageDamage.assertCorrupt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.BulkReader;
import dev.accr.kernel.BufferBudget;
import dev.accr.proto.PluginChunkEntry;
import dev.accr.proto.PluginPagemapHead;
import com.google.protobuf.MessageLite;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plugin bulk files: lanes written in parallel, read back whole, and damage refused. */
class BulkFileTest {
  private static final CheckpointId ID = CheckpointId.random();
  private static final int CHUNK = 256 << 10;

  @TempDir
  Path dir;

  @Test
  void oneWriterLeavesOnePagesFileAndSkipsZeros() throws IOException {
    Map<Long, byte[]> written = new ConcurrentHashMap<>();
    try (BulkFileWriter w = BulkFileWriter.create(dir, "kfd", "vram", 7, ID, Compression.NONE, 4)) {
      for (long key = 0; key < 12; key++) {
        byte[] data = key == 5 ? new byte[CHUNK] : random(key);
        write(w, key, data);
        if (key != 5) {
          written.put(key, data);
        }
      }
      assertEquals(12L * CHUNK, w.bytesIn());
      assertEquals(11L * CHUNK, w.bytesStored());
    }
    assertEquals(List.of("kfd-vram-7.pagemap.img", "kfd-vram-7.pages.img"), files());
    assertEquals(written.keySet(), readAll(4).keySet());
    readAll(4).forEach((key, data) -> assertArrayEquals(written.get(key), data, "key " + key));
  }

  @Test
  void eightReadersAndWritersSharingOneSmallBudgetAllFinishWithinIt() throws Exception {
    BufferBudget budget = new BufferBudget(3L * CHUNK); // room for one reader's two buffers
    Map<Long, byte[]> written = new ConcurrentHashMap<>();
    try (BulkFileWriter w = BulkFileWriter.create(dir, "kfd", "vram", 7, ID,
        Compression.parse("zstd:1"), 4, budget)) {
      for (long key = 0; key < 8; key++) {
        written.put(key, random(key));
        write(w, key, written.get(key));
      }
    }
    List<Thread> readers = new ArrayList<>();
    List<Throwable> failures = new ArrayList<>();
    for (int r = 0; r < 8; r++) {
      readers.add(Thread.ofPlatform().start(() -> {
        try {
          Map<Long, byte[]> read = read(BulkFileReader.open(dir, "kfd", "vram", 7, ID)
              .budgeted(budget), 4);
          read.forEach((key, data) -> assertArrayEquals(written.get(key), data, "key " + key));
        } catch (Throwable t) {
          synchronized (failures) {
            failures.add(t);
          }
        }
      }));
    }
    for (Thread t : readers) {
      t.join(30_000);
      assertFalse(t.isAlive(), "a reader is still waiting: a deadlock");
    }
    assertEquals(List.of(), failures);
    assertTrue(budget.peak() <= budget.capacity(), "peak " + budget.peak());
    assertTrue(budget.peak() >= 2L * CHUNK, "the readers took their buffers from the budget");
    assertEquals(0, budget.inUse());
  }

  @Test
  void aCancelledReadOrWriteGivesUpBetweenChunks() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean cancelled = new java.util.concurrent.atomic.AtomicBoolean();
    BulkFileWriter w = BulkFileWriter.create(dir, "kfd", "vram", 7, ID, Compression.NONE, 1)
        .cancelledBy(cancelled::get);
    for (long key = 0; key < 40; key++) {
      write(w, key, random(key));
    }
    cancelled.set(true);
    dev.accr.api.AccrException refused = org.junit.jupiter.api.Assertions.assertThrows(
        dev.accr.api.AccrException.class, () -> write(w, 99, random(99)));
    assertTrue(refused.getMessage().endsWith("cancelled"), refused.getMessage());
    cancelled.set(false);
    w.close();

    java.util.concurrent.atomic.AtomicInteger consumed = new java.util.concurrent.atomic.AtomicInteger();
    BulkFileReader reader = BulkFileReader.open(dir, "kfd", "vram", 7, ID)
        .cancelledBy(cancelled::get);
    dev.accr.api.AccrException stopped = org.junit.jupiter.api.Assertions.assertThrows(
        dev.accr.api.AccrException.class, () -> reader.forEach(1, (key, data) -> {
          // A consumer that would block for long, like a device step; cancelled after its first chunk.
          consumed.incrementAndGet();
          cancelled.set(true);
        }));
    assertTrue(stopped.getMessage().contains("cancelled"), stopped.getMessage());
    assertTrue(consumed.get() < 40, "gave up after " + consumed.get() + " of 40 chunks");
  }

  @Test
  void overlappingWritersEachAppendToTheirOwnLane() throws Exception {
    for (int round = 0; ; round++) { // writers overlap almost always; retry the rare round that did not
      long id = 100 + round;
      Map<Long, byte[]> written = writeConcurrently(id, Compression.parse("zstd:1"));
      PluginPagemapHead head = EntryImageCodec.read(dir.resolve(
          ImageKind.PLUGIN_PAGEMAP.pluginFileName("kfd", "vram", id)), ImageKind.PLUGIN_PAGEMAP,
          ID).parse(PluginPagemapHead.parser(), 0);
      BulkFileReader reader = BulkFileReader.open(dir, "kfd", "vram", id, ID);
      Map<Long, byte[]> read = read(reader, 3);
      assertEquals(written.keySet(), read.keySet());
      written.forEach((key, data) -> assertArrayEquals(data, read.get(key), "key " + key));
      int lanes = 1 + head.getLaneFileSizesCount();
      assertTrue(lanes <= 4, "at most one lane per writer: " + lanes);
      for (int lane = 0; lane < lanes; lane++) {
        assertTrue(Files.exists(dir.resolve(ImageKind.pluginLaneFileName("kfd", "vram", id, lane))));
      }
      assertFalse(Files.exists(dir.resolve(ImageKind.pluginLaneFileName("kfd", "vram", id, lanes))));
      if (lanes > 1 || round == 9) {
        assertTrue(lanes > 1, "ten rounds of four writers never overlapped");
        return;
      }
    }
  }

  @Test
  void missingOrResizedLaneIsCorrupt() throws Exception {
    writeUntilLanes(2);
    Path lane1 = dir.resolve(ImageKind.pluginLaneFileName("kfd", "vram", 1, 1));
    byte[] good = Files.readAllBytes(lane1);
    Files.write(lane1, java.util.Arrays.copyOf(good, good.length - 1));
    assertCorrupt(lane1.toString(), () -> BulkFileReader.open(dir, "kfd", "vram", 1, ID));
    Files.delete(lane1);
    assertCorrupt(lane1.toString(), () -> BulkFileReader.open(dir, "kfd", "vram", 1, ID));
  }

  @Test
  void entryNamingAnUnknownLaneIsCorrupt() throws Exception {
    writeUntilLanes(2);
    Path pagemap = dir.resolve(ImageKind.PLUGIN_PAGEMAP.pluginFileName("kfd", "vram", 1));
    EntryImage image = EntryImageCodec.read(pagemap, ImageKind.PLUGIN_PAGEMAP, ID);
    List<MessageLite> entries = new ArrayList<>();
    entries.add(image.parse(PluginPagemapHead.parser(), 0));
    List<PluginChunkEntry> chunks = image.parseRange(PluginChunkEntry.parser(), 1,
        image.entries().size());
    entries.add(chunks.getFirst().toBuilder().setLane(63).build());
    entries.addAll(chunks.subList(1, chunks.size()));
    Files.delete(pagemap);
    EntryImageCodec.write(pagemap, ImageKind.PLUGIN_PAGEMAP, ID, entries);
    assertTrue(assertCorrupt(pagemap.toString(), () -> BulkFileReader.open(dir, "kfd", "vram", 1,
        ID)).getMessage().contains("lane 63"));
  }

  @Test
  void laneFileNames() {
    assertEquals("kfd-vram-3.pages.img", ImageKind.pluginLaneFileName("kfd", "vram", 3, 0));
    assertEquals("kfd-vram-3.pages-12.img", ImageKind.pluginLaneFileName("kfd", "vram", 3, 12));
    assertEquals(ImageKind.PLUGIN_PAGES, ImageKind.ofFileName("kfd-vram-3.pages-12.img"));
    assertEquals(null, ImageKind.ofFileName("kfd-vram-3.pages-0.img"));
    assertEquals(new ImageKind.PluginFileName("kfd", "vram", 3),
        ImageKind.parsePluginFileName("kfd-vram-3.pages-63.img"));
  }

  /** Writes bulk 1 over and over until it has at least {@code lanes} lanes. */
  private void writeUntilLanes(int lanes) throws Exception {
    for (int round = 0; round < 10; round++) {
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.delete(f);
        }
      }
      writeConcurrently(1, Compression.NONE);
      if (Files.exists(dir.resolve(ImageKind.pluginLaneFileName("kfd", "vram", 1, lanes - 1)))) {
        return;
      }
    }
    throw new AssertionError("writers never overlapped");
  }

  /** Four threads write 16 chunks each at once; returns what was written by key. */
  private Map<Long, byte[]> writeConcurrently(long id, Compression compression) throws Exception {
    Map<Long, byte[]> written = new ConcurrentHashMap<>();
    CyclicBarrier start = new CyclicBarrier(4);
    try (BulkFileWriter w = BulkFileWriter.create(dir, "kfd", "vram", id, ID, compression, 4)) {
      List<Thread> threads = new ArrayList<>();
      List<Throwable> failures = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long first = t * 16L;
        threads.add(Thread.ofPlatform().start(() -> {
          try {
            start.await();
            for (long key = first; key < first + 16; key++) {
              byte[] data = random(key * 31 + id);
              write(w, key, data);
              written.put(key, data);
            }
          } catch (Exception | AssertionError e) {
            synchronized (failures) {
              failures.add(e);
            }
          }
        }));
      }
      for (Thread t : threads) {
        t.join();
      }
      assertEquals(List.of(), failures);
    }
    return written;
  }

  @Test
  void anAsynchronousConsumerKeepsEachChunkUntilItsWorkIsDone() throws IOException {
    for (String compression : List.of("none", "zstd:1")) {
      Path in = dir.resolve(compression.replace(':', '-'));
      Files.createDirectories(in);
      Map<Long, byte[]> written = new ConcurrentHashMap<>();
      try (BulkFileWriter w = BulkFileWriter.create(in, "kfd", "vram", 7, ID,
          Compression.parse(compression), 2)) {
        for (long key = 0; key < 24; key++) {
          written.put(key, random(key));
          write(w, key, written.get(key));
        }
      }
      Map<Long, byte[]> copied = new ConcurrentHashMap<>();
      List<LaterCopy> works = java.util.Collections.synchronizedList(new ArrayList<>());
      try (BulkFileReader r = BulkFileReader.open(in, "kfd", "vram", 7, ID)) {
        r.forEachAsync(2, (key, data) -> {
          LaterCopy work = new LaterCopy(key, data, copied, false);
          works.add(work);
          return work; // copied only when the reader waits for it, after later chunks are read
        });
      }
      assertEquals(24, works.size(), compression);
      assertTrue(works.stream().allMatch(LaterCopy::isDone), "every work ended: " + compression);
      assertEquals(written.keySet(), copied.keySet(), compression);
      copied.forEach((key, data) -> assertArrayEquals(written.get(key), data,
          compression + ": key " + key + " was overwritten before its work was done"));

      List<LaterCopy> failing = java.util.Collections.synchronizedList(new ArrayList<>());
      try (BulkFileReader r = BulkFileReader.open(in, "kfd", "vram", 7, ID)) {
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class, () -> r.forEachAsync(2, (key, data) -> {
              LaterCopy work = new LaterCopy(key, data, new ConcurrentHashMap<>(), key == 3);
              failing.add(work);
              return work;
            }));
        assertEquals("copy of key 3 failed", e.getMessage());
      }
      assertTrue(failing.stream().allMatch(LaterCopy::isDone),
          "no work is left running after a failed read: " + compression);
    }
  }

  /** A copy of a chunk's data that runs only when waited for; fails if told to. */
  private static final class LaterCopy implements BulkReader.Pending {
    private final long key;
    private final MemorySegment data;
    private final Map<Long, byte[]> into;
    private final boolean fails;
    private volatile boolean done;

    LaterCopy(long key, MemorySegment data, Map<Long, byte[]> into, boolean fails) {
      this.key = key;
      this.data = data;
      this.into = into;
      this.fails = fails;
    }

    @Override
    public boolean isDone() {
      return done;
    }

    @Override
    public synchronized void await() {
      if (!done) {
        done = true;
        if (fails) {
          throw new IllegalStateException("copy of key " + key + " failed");
        }
        into.put(key, data.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
      }
    }
  }

  private static void write(BulkFileWriter w, long key, byte[] data) {
    w.write(key, MemorySegment.ofArray(data));
  }

  private Map<Long, byte[]> readAll(int threads) throws IOException {
    return read(BulkFileReader.open(dir, "kfd", "vram", 7, ID), threads);
  }

  private static Map<Long, byte[]> read(BulkReader reader, int threads) {
    Map<Long, byte[]> out = new ConcurrentHashMap<>();
    reader.forEach(threads, (key, data) -> out.put(key, data.toArray(
        java.lang.foreign.ValueLayout.JAVA_BYTE)));
    assertEquals(reader.chunks().size(), out.size());
    return out;
  }

  private List<String> files() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  /** Half random, half repeated bytes, so that zstd has something to shrink. */
  private static byte[] random(long seed) {
    byte[] b = new byte[CHUNK];
    new Random(seed).nextBytes(b);
    java.util.Arrays.fill(b, CHUNK / 2, CHUNK, (byte) seed);
    return b;
  }
}
