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
 * The SDMA copy packet of the VRAM DMA path: 1 MiB copied from a host buffer into VRAM (the
 * restore's direction) or out of it (the dump's), {@code packets} packets per submitted batch,
 * each batch awaited (the waiting thread runs it, as on a busy machine). Scores are packets per
 * second, i.e. MiB/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SdmaCopyBenchmark {
  private static final int PACKET = 1 << 20;
  private static final int SPAN = 64;

  @Param({"1", "8"})
  public int packets;

  @Param({"in", "out"})
  public String direction;

  private Arena arena;
  private MemorySegment host;
  private Vram vram;
  private SdmaEngine engine;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    arena = Arena.ofShared();
    host = ZeroedMemory.allocate(arena, (long) SPAN * PACKET);
    host.fill((byte) 7);
    vram = new Vram((long) SPAN * PACKET, (long) SPAN * PACKET);
    vram.copyIn(host, 0, 0, (long) SPAN * PACKET); // VRAM resident before measuring
    engine = new SdmaEngine("jmh-sdma", false);
  }

  @Benchmark
  @OperationsPerInvocation(8)
  public void copy() {
    for (int done = 0; done < 8; done += packets) {
      List<SdmaEngine.CopyPacket> batch = new ArrayList<>(packets);
      for (int i = 0; i < packets; i++) {
        long offset = (long) (next++ % SPAN) * PACKET;
        batch.add("in".equals(direction)
            ? () -> vram.copyIn(host, offset, offset, PACKET)
            : () -> vram.copyOut(offset, host, offset, PACKET));
      }
      engine.await(engine.submit(batch));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
    arena.close();
  }
}
