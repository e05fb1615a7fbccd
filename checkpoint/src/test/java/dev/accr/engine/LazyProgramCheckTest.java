package dev.accr.engine;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.CorruptImageException;
import dev.accr.api.ProcessView;
import dev.accr.api.Workload;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import dev.accr.workload.CounterWorkload;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A program's own check of its restored state reads its memory: a lazy restore that reads the
 * images first makes it before the process runs (a refusal is exit 3, nothing left), one that
 * does not makes it once the process runs, and a refusal then kills the process with the reason.
 */
class LazyProgramCheckTest {
  @TempDir Path tmp;

  /**
   * The counter (long enough to be running when the check comes), under another name,
   * refusing every restored state when {@code refuses}.
   */
  private record Fussy(boolean refuses) implements Workload {
    private static final CounterWorkload COUNTER = new CounterWorkload();

    @Override
    public String name() {
      return "fussy-counter";
    }

    @Override
    public String description() {
      return COUNTER.description();
    }

    @Override
    public String usage() {
      return COUNTER.usage();
    }

    @Override
    public void exec(ProcessView process, List<String> args) {
      COUNTER.exec(process, args);
    }

    @Override
    public boolean step(ProcessView process) {
      return COUNTER.step(process);
    }

    @Override
    public void checkRestored(ProcessView process) {
      COUNTER.checkRestored(process);
      if (refuses) {
        throw new CorruptImageException("core-" + process.pid() + ".img", "refused by the test");
      }
    }
  }

  private static Node node(String name, boolean refuses) {
    Registry base = Scenarios.registry();
    List<Workload> workloads = new ArrayList<>(base.workloads().values());
    workloads.add(new Fussy(refuses));
    Registry r = Registry.of(base.plugins(), List.copyOf(base.deviceTypes()), workloads);
    return new Node(name, r.topologies().load("cpu-only"), r);
  }

  private Path dumped() throws Exception {
    Node a = node("a", false);
    SimProcess p = a.create("fussy-counter", List.of("--mem-mib", "2", "--steps", "1000000",
        "--out", tmp.resolve("fussy.out").toString()), tmp, 0);
    Scenarios.step(p, 5);
    Path dir = tmp.resolve("img");
    Scenarios.dump(a, p, dir, DumpOptions.defaults());
    return dir;
  }

  @Test
  void aCheckedLazyRestoreRefusesBeforeTheProcessRuns() throws Exception {
    Path dir = dumped();
    Node b = node("b", true);
    CorruptImageException e = assertThrows(CorruptImageException.class,
        () -> new Restorer(b, Scenarios.plugins(b)).restore(dir, RestoreOptions.defaults()
            .withLazy(RestoreOptions.Lazy.CHECKED), ProgressListener.NONE));
    assertTrue(e.getMessage().contains("refused by the test"), e.getMessage());
    assertTrue(b.processes().isEmpty(), "nothing is left");
  }

  @Test
  void anUncheckedLazyRestoreChecksOnceItRunsAndKillsTheProcessWithTheReason()
      throws Exception {
    Path dir = dumped();
    Node b = node("b", true);
    Restorer.Result r = new Restorer(b, Scenarios.plugins(b)).restore(dir,
        RestoreOptions.defaults().withLazy(RestoreOptions.Lazy.UNCHECKED),
        ProgressListener.NONE);
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> r.process().exitFuture().get(60, TimeUnit.SECONDS));
    String message = e.getCause().getMessage();
    assertTrue(message.contains("cannot run") && message.contains("refused by the test"),
        message);
  }
}
