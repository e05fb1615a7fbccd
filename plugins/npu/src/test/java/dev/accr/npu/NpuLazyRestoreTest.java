package dev.accr.npu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.DumpOptions;
import dev.accr.engine.LazyRestore;
import dev.accr.engine.RestoreOptions;
import dev.accr.engine.Restorer;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The npu has no lazy restore: under --lazy its memory comes back eagerly, and it says so. */
class NpuLazyRestoreTest {
  @TempDir Path tmp;

  @Test
  void aLazyRestoreRestoresNpuMemoryEagerlyAndSaysSo() throws Exception {
    List<String> args = List.of("--steps", "8", "--seed", "2");
    String expected;
    try (Node a = NpuNodes.node("a", "npu4")) {
      expected = Scenarios.uninterrupted(a, "npu-infer", args, tmp);
    }
    try (Node a = NpuNodes.node("a", "npu4"); Node b = NpuNodes.node("b", "npu4")) {
      SimProcess p = a.create("npu-infer", args, tmp, 0);
      Scenarios.step(p, 3);
      Path dir = tmp.resolve("images");
      Scenarios.dump(a, p, dir, DumpOptions.defaults());
      Restorer.Result r = new Restorer(b, Scenarios.plugins(b)).restore(dir,
          RestoreOptions.defaults().withStart(RestoreOptions.Start.INLINE)
              .withLazy(RestoreOptions.Lazy.CHECKED), ProgressListener.NONE);
      assertTrue(NpuNodes.npu(b).usedBytes() > 0, "npu memory is back before the process runs");
      LazyRestore.Progress done = r.lazy().await(TimeUnit.SECONDS.toMillis(60));
      assertEquals(List.of("npu"), done.eager(), done.toString());
      assertEquals(List.of(), done.devices(), done.toString());
      assertEquals(expected, Scenarios.finish(b, r.process()));
    }
  }
}
