package dev.accr.jmh;

import dev.accr.api.ZeroedMemory;
import dev.accr.image.CheckpointId;
import dev.accr.image.ChunkFileReader;
import dev.accr.image.ChunkFileWriter;
import dev.accr.image.Compression;
import dev.accr.image.ImageKind;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The restore's hot loop: a pages file of 64 chunks of 1 MiB read chunk by chunk, each
 * checked against its checksum and read straight into its frames, as {@code PageLoader} does.
 * With {@code fresh=true} the frames are freshly mapped for every pass (what a restore pays to
 * fault memory in); with {@code fresh=false} the same frames are reused (read and verify only).
 * Scores are chunks per second, i.e. MiB/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ChunkReadBenchmark {
  private static final int CHUNK = ChunkWriteBenchmark.CHUNK;
  private static final int CHUNKS = 64;

  @Param({"/dev/shm"})
  public String dir;

  @Param({"false", "true"})
  public boolean fresh;

  private Path file;
  private CheckpointId id;
  private Arena reused;
  private MemorySegment reusedFrames;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    id = CheckpointId.random();
    file = Files.createTempFile(Path.of(dir), "accr-jmh-", ".img");
    Files.delete(file);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment chunk = arena.allocate(CHUNK, 4096);
      ChunkWriteBenchmark.fillRandom(chunk, 9);
      ByteBuffer payload = chunk.asByteBuffer();
      CRC32C crc = new CRC32C();
      crc.update(payload.duplicate());
      ChunkFileWriter writer = ChunkFileWriter.create(file, ImageKind.PAGES, id);
      for (int i = 0; i < CHUNKS; i++) {
        writer.append(Compression.Codec.NONE, CHUNK, (int) crc.getValue(), payload.duplicate());
      }
      writer.finish();
    }
    reused = Arena.ofShared();
    reusedFrames = ZeroedMemory.allocate(reused, (long) CHUNKS * CHUNK);
  }

  @Benchmark
  @OperationsPerInvocation(CHUNKS)
  public long readVerifyIntoFrames() throws IOException {
    try (Arena arena = fresh ? Arena.ofConfined() : null;
        ChunkFileReader reader = ChunkFileReader.open(file, id)) {
      MemorySegment frames = fresh
          ? ZeroedMemory.allocate(arena, (long) CHUNKS * CHUNK) : reusedFrames;
      long at = 0;
      for (ChunkFileReader.Chunk c; (c = reader.nextHeader()) != null; ) {
        reader.readPayload(c, frames.asSlice(at, c.storedLength()).asByteBuffer());
        at += c.storedLength();
      }
      return at;
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    Files.deleteIfExists(file);
    reused.close();
  }
}
