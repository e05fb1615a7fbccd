package dev.accr.kfd.driver;

import dev.accr.api.ZeroedMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * A VRAM restore's copies: 64 MiB of staged chunks copied into a GPU's buffer by SDMA packets
 * of 1 MiB, 8 to a batch, into VRAM that is {@code resident} (written before and not freed),
 * {@code reused} (freed before each pass: the blocks are the device's spare ones, cleared when
 * freed) or {@code fresh} (a new device each pass: every block is new host memory the host
 * faults in). Scores are packets per second, i.e. MiB/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class VramRefillBenchmark {
  private static final int PACKET = 1 << 20;
  private static final int SPAN = 64;
  private static final int BATCH = 8;

  @Param({"resident", "reused", "fresh"})
  public String memory;

  private Arena arena;
  private MemorySegment staged;
  private Vram vram;
  private SdmaEngine engine;

  @Setup(Level.Trial)
  public void setUp() {
    arena = Arena.ofShared();
    staged = ZeroedMemory.allocate(arena, (long) SPAN * PACKET);
    staged.fill((byte) 7);
    vram = new Vram((long) SPAN * PACKET, (long) SPAN * PACKET);
    vram.copyIn(staged, 0, 0, (long) SPAN * PACKET); // every block written once
    engine = new SdmaEngine("jmh-sdma", false);
  }

  /** Frees or replaces the device's memory before a pass, as {@link #memory} says. */
  @Setup(Level.Invocation)
  public void prepare() {
    switch (memory) {
      case "reused" -> vram.release(0, (long) SPAN * PACKET);
      case "fresh" -> {
        vram.close(); // its blocks unmapped, spare ones too
        vram = new Vram((long) SPAN * PACKET, (long) SPAN * PACKET);
      }
      default -> { }
    }
  }

  @Benchmark
  @OperationsPerInvocation(SPAN)
  public void refill() {
    for (int first = 0; first < SPAN; first += BATCH) {
      List<SdmaEngine.CopyPacket> batch = new ArrayList<>(BATCH);
      for (int i = first; i < first + BATCH; i++) {
        long offset = (long) i * PACKET;
        batch.add(() -> vram.copyIn(staged, offset, offset, PACKET));
      }
      engine.await(engine.submit(batch));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
    vram.close();
    arena.close();
  }
}
