package dev.accr.jmh;

import dev.accr.api.ZeroedMemory;
import dev.accr.image.CheckpointId;
import dev.accr.image.ChunkFileWriter;
import dev.accr.image.Compression;
import dev.accr.image.ImageKind;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The dump's hot loop for one 1 MiB chunk of uncompressed pages: the CRC32C of its frames and
 * one gathering write of the frames into a pages file, as {@code PageDumper} does. Frames lie
 * side by side ({@code pieces=1}) or each in a piece of its own ({@code pieces=256}). Scores
 * are chunks per second, i.e. MiB/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ChunkWriteBenchmark {
  static final int CHUNK = 1 << 20;
  /** A file is finished and a new one begun after this many chunks, so files stay small. */
  private static final int CHUNKS_PER_FILE = 128;

  @Param({"/dev/shm"})
  public String dir;

  @Param({"1", "256"})
  public int pieces;

  private Arena arena;
  private ByteBuffer[] frames;
  private ChunkFileWriter writer;
  private Path file;
  private int chunksInFile;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    arena = Arena.ofShared();
    MemorySegment region = ZeroedMemory.allocate(arena, CHUNK);
    fillRandom(region, 5);
    frames = new ByteBuffer[pieces];
    long piece = CHUNK / pieces;
    for (int i = 0; i < pieces; i++) {
      frames[i] = region.asSlice(i * piece, piece).asByteBuffer();
    }
    newFile();
  }

  static void fillRandom(MemorySegment s, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    for (long o = 0; o < s.byteSize(); o += 8) {
      s.set(ValueLayout.JAVA_LONG_UNALIGNED, o, random.nextLong());
    }
  }

  private void newFile() throws IOException {
    file = Files.createTempFile(Path.of(dir), "accr-jmh-", ".img");
    Files.delete(file);
    writer = ChunkFileWriter.create(file, ImageKind.PAGES, CheckpointId.random());
    chunksInFile = 0;
  }

  @Benchmark
  public long checksumAndWrite() throws IOException {
    CRC32C crc = new CRC32C();
    for (ByteBuffer f : frames) {
      crc.update(f.clear());
    }
    for (ByteBuffer f : frames) {
      f.clear();
    }
    long offset = writer.append(Compression.Codec.NONE, CHUNK, (int) crc.getValue(), frames);
    if (++chunksInFile == CHUNKS_PER_FILE) {
      writer.finish();
      Files.delete(file);
      newFile();
    }
    return offset;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    writer.close();
    Files.deleteIfExists(file);
    arena.close();
  }
}
