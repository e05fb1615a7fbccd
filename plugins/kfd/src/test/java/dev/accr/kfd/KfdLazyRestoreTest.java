package dev.accr.kfd;

import static dev.accr.testkit.ImageDamage.flipBit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.LazyRestore;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.Restorer;
import dev.accr.api.CorruptImageException;
import dev.accr.image.ImageKind;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.kfd.proto.BoDomain;
import dev.accr.kfd.proto.KfdBoEntry;
import dev.accr.testkit.ImageEdits;
import dev.accr.testkit.Scenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * kfd-serve and kfd-train restored lazily: the process steps while its host pages and VRAM
 * blocks load on first touch (by shaders, SDMA or the CPU) and from the pusher, racing; the
 * run ends with the digest of an uninterrupted one, and a damaged VRAM chunk found once the
 * process runs kills it with the reason, as does a VRAM chunk that lands in no buffer (the
 * blocks are listed once the process runs) unless the restore checks every chunk first.
 */
class KfdLazyRestoreTest {
  static final int STEPS = 10;
  static final List<String> SERVE = List.of("--gpus", "2", "--weights-mib", "4", "--kv-mib",
      "4", "--requests", "4", "--steps", "" + STEPS, "--seed", "5");

  @TempDir Path tmp;

  static Stream<Arguments> cases() {
    List<String> train = List.of("--gpus", "2", "--vram-mib", "4", "--steps", "" + STEPS,
        "--seed", "3");
    return Stream.of(Arguments.of("kfd-serve", SERVE, RestoreOptions.Lazy.UNCHECKED),
        Arguments.of("kfd-train", train, RestoreOptions.Lazy.CHECKED));
  }

  @ParameterizedTest(name = "{0} {2}")
  @MethodSource("cases")
  void aLazilyRestoredRunEndsWithTheUninterruptedDigest(String workload, List<String> args,
      RestoreOptions.Lazy mode) throws Exception {
    long seed = new Random().nextLong();
    int dumpAfter = 1 + new Random(seed).nextInt(STEPS - 1);
    String expected;
    try (Node a = KfdNodes.node("a", "mi250x4")) {
      expected = Scenarios.uninterrupted(a, workload, args, tmp);
    }
    try (Node a = KfdNodes.node("a", "mi250x4"); Node b = KfdNodes.node("b", "mi250x4")) {
      Path dir = dump(a, workload, args, dumpAfter);
      Restorer.Result r = new Restorer(b, Scenarios.plugins(b)).restore(dir,
          RestoreOptions.defaults().withThreads(2).withStart(RestoreOptions.Start.INLINE)
              .withLazy(mode), ProgressListener.NONE);
      SimProcess p = r.process();
      Scenarios.step(p, STEPS);
      LazyRestore.Progress done = r.lazy().await(TimeUnit.SECONDS.toMillis(60));
      String context = "dumped after " + dumpAfter + " steps (seed " + seed + "): " + done;
      assertTrue(done.done(), context);
      assertEquals(1, done.devices().size(), context);
      LazyRestore.DeviceProgress vram = done.devices().getFirst();
      assertTrue(vram.units() > 0, context);
      assertEquals(vram.units(), vram.faulted() + vram.pushed(), context);
      assertEquals(expected, Scenarios.finish(b, p), context);
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes());
    }
  }

  @Test
  void aDamagedVramChunkFoundOnceTheProcessRunsKillsIt() throws Exception {
    try (Node a = KfdNodes.node("a", "mi250x4"); Node b = KfdNodes.node("b", "mi250x4")) {
      Path dir = dump(a, "kfd-serve", SERVE, 3);
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : files.filter(f -> f.getFileName().toString()
            .matches("kfd-vram-p\\d+-\\d+\\.pages\\.img")).toList()) {
          byte[] bytes = Files.readAllBytes(f);
          Files.write(f, flipBit(bytes, bytes.length / 2, 1));
        }
      }
      Restorer.Result r = new Restorer(b, Scenarios.plugins(b)).restore(dir,
          RestoreOptions.defaults().withThreads(2).withLazy(RestoreOptions.Lazy.UNCHECKED),
          ProgressListener.NONE);
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> r.process().exitFuture().get(60, TimeUnit.SECONDS));
      String message = e.getCause().getMessage();
      assertTrue(message.contains("VRAM block") && message.contains("checksum"), message);
    }
  }

  @Test
  void aVramChunkOutsideEveryBufferKillsTheProcessOrIsRefusedWhenCheckedFirst()
      throws Exception {
    try (Node a = KfdNodes.node("a", "mi250x4"); Node b = KfdNodes.node("b", "mi250x4")) {
      Path dir = dump(a, "kfd-serve", SERVE, 3);
      String bos = ImageEdits.fileMatching(dir, "kfd-bos-\\d+\\.img");
      // The largest VRAM buffer loses its upper half: the chunks stored there land nowhere.
      ImageEdits.editAll(dir, bos, ImageKind.PLUGIN, KfdBoEntry.parser(), all -> {
        KfdBoEntry largest = all.stream().filter(e -> e.getDomain() == BoDomain.VRAM)
            .max(java.util.Comparator.comparingLong(KfdBoEntry::getSize)).orElseThrow();
        return all.stream().map(e -> e != largest ? e
            : e.toBuilder().setSize(e.getSize() / 2 / 4096 * 4096).build()).toList();
      });
      CorruptImageException refused = assertThrows(CorruptImageException.class,
          () -> new Restorer(b, Scenarios.plugins(b)).restore(dir, RestoreOptions.defaults()
              .withThreads(2).withLazy(RestoreOptions.Lazy.CHECKED), ProgressListener.NONE));
      assertTrue(refused.getMessage().contains("outside every VRAM buffer"),
          refused.getMessage());
      assertEquals(0, KfdNodes.kfd(b).allocatedVramBytes());
      Restorer.Result r = new Restorer(b, Scenarios.plugins(b)).restore(dir,
          RestoreOptions.defaults().withThreads(2).withLazy(RestoreOptions.Lazy.UNCHECKED),
          ProgressListener.NONE);
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> r.process().exitFuture().get(60, TimeUnit.SECONDS));
      String message = e.getCause().getMessage();
      assertTrue(message.contains("outside every VRAM buffer"), message);
    }
  }

  private Path dump(Node a, String workload, List<String> args, int steps) throws Exception {
    SimProcess p = a.create(workload, args, tmp, 0);
    Scenarios.step(p, steps);
    Path dir = tmp.resolve("images");
    Scenarios.dump(a, p, dir, DumpOptions.defaults().withThreads(2));
    return dir;
  }
}
