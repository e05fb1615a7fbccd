package dev.accr.api.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Objects;
import java.util.Random;

/**
 * The test every device plugin should pass: a workload run uninterrupted, and the same run
 * dumped at some moment, restored (on the same topology or another) and finished, end with
 * the same digest. Moments are step counts (the process stepped by the test, so the dump
 * meets the device exactly after that step, with whatever work is in flight) or delays (the
 * process runs on its own thread and is dumped after that many milliseconds, wherever it is).
 *
 * <pre>{@code
 * PluginTestKit.check("npu-infer", List.of("--steps", "20"))
 *     .from("npu4").to("npu2-large").afterSteps(0, 3, 11).afterMillis(40).run(tmp);
 * }</pre>
 *
 * <p>Random step counts come from one seed per test run, printed with the counts it gave and
 * in every failure; {@code -Daccr.test.seed=N} replays a run.
 */
public final class PluginTestKit {
  /** The property that fixes the seed of random dump points. */
  public static final String SEED_PROPERTY = "accr.test.seed";
  private static final long SEED = Long.getLong(SEED_PROPERTY, new Random().nextLong());

  private final String workload;
  private final List<String> args;
  private String from = "cpu-only";
  private String to;
  /** Step counts to dump after, each with how it is named in outcomes and failures. */
  private final List<StepMoment> steps = new ArrayList<>();
  private final List<Long> millis = new ArrayList<>();
  private Map<String, String> pluginOptions = Map.of();

  private PluginTestKit(String workload, List<String> args) {
    this.workload = workload;
    this.args = List.copyOf(args);
  }

  /** A check of {@code workload} run with {@code args}. */
  public static PluginTestKit check(String workload, List<String> args) {
    return new PluginTestKit(workload, args);
  }

  /** The engine, found through {@link ServiceLoader}. */
  public static TestEngine engine() {
    return ServiceLoader.load(TestEngine.class).findFirst().orElseThrow(() ->
        new IllegalStateException("no " + TestEngine.class.getName() + " on the class path:"
            + " add dev.accr:accr-checkpoint and its test-jar as test dependencies"));
  }

  /** The topology (preset or file) the process runs and is dumped on. */
  public PluginTestKit from(String topology) {
    this.from = topology;
    return this;
  }

  /** The topology it is restored on (default: the same as {@link #from}). */
  public PluginTestKit to(String topology) {
    this.to = topology;
    return this;
  }

  /** Dumps after each of these step counts, one run each. */
  public PluginTestKit afterSteps(int... counts) {
    for (int c : counts) {
      steps.add(new StepMoment(c, "after " + c + " steps"));
    }
    return this;
  }

  /** Dumps a freely running process after each of these delays, one run each. */
  public PluginTestKit afterMillis(long... delays) {
    for (long d : delays) {
      millis.add(d);
    }
    return this;
  }

  /**
   * Dumps after {@code n} step counts drawn at random below {@code maxSteps}. The draws depend
   * only on the run's seed and this check (workload, arguments, n, maxSteps), so one test
   * replays alike whichever other tests run with it.
   */
  public PluginTestKit afterRandomSteps(int n, int maxSteps) {
    Random random = new Random(SEED ^ Objects.hash(workload, args, n, maxSteps));
    List<Integer> drawn = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int c = random.nextInt(maxSteps);
      drawn.add(c);
      steps.add(new StepMoment(c, "after " + c + " random steps (-D" + SEED_PROPERTY + "="
          + SEED + ")"));
    }
    System.out.printf("PluginTestKit %s: random dump points %s from -D%s=%d%n", workload, drawn,
        SEED_PROPERTY, SEED);
    return this;
  }

  /** The seed of this test run's random dump points. */
  public static long seed() {
    return SEED;
  }

  private record StepMoment(int steps, String label) {}

  /** Plugin options for the dumps ({@code plugin.option} to value). */
  public PluginTestKit pluginOptions(Map<String, String> options) {
    this.pluginOptions = Map.copyOf(options);
    return this;
  }

  /** One dump: when it was taken, and the digest the restored run ended with. */
  public record Outcome(String moment, Path images, String digest) {}

  /**
   * Runs the uninterrupted run and every dump, restore and finish, with images under
   * {@code workDir}; returns the outcomes.
   *
   * @throws AssertionError naming the first moment whose digest differs
   */
  public List<Outcome> run(Path workDir) throws IOException, InterruptedException {
    if (steps.isEmpty() && millis.isEmpty()) {
      throw new IllegalStateException("no moment to dump at: call afterSteps or afterMillis");
    }
    TestEngine engine = engine();
    String expected;
    try (TestNode a = engine.start("a", from)) {
      expected = a.finish(a.create(workload, args));
    }
    List<Outcome> outcomes = new ArrayList<>();
    for (StepMoment m : steps) {
      outcomes.add(once(engine, m.label(), workDir, a -> {
        int pid = a.create(workload, args);
        for (int i = 0; i < m.steps() && a.step(pid); i++) {
          // the dump meets the process right after step s
        }
        return pid;
      }));
    }
    for (long ms : millis) {
      outcomes.add(once(engine, "after " + ms + " ms", workDir, a -> {
        int pid = a.spawn(workload, args);
        Thread.sleep(ms);
        return pid;
      }));
    }
    for (Outcome o : outcomes) {
      if (!o.digest().equals(expected)) {
        throw new AssertionError(String.format("%s %s: dumped %s on %s, restored on %s: digest"
            + " %s, uninterrupted %s", workload, args, o.moment(), from, to == null ? from : to,
            o.digest(), expected));
      }
    }
    return outcomes;
  }

  private interface Start {
    int start(TestNode node) throws InterruptedException;
  }

  private Outcome once(TestEngine engine, String moment, Path workDir, Start start)
      throws IOException, InterruptedException {
    Path images = Files.createTempDirectory(workDir, "images-").resolve("set");
    try (TestNode a = engine.start("a", from); TestNode b = engine.start("b", to == null ? from : to)) {
      int pid = start.start(a);
      a.dump(pid, images, pluginOptions, false);
      if (a.pids().contains(pid)) {
        throw new AssertionError(moment + ": the dumped process still runs");
      }
      return new Outcome(moment, images, b.finish(b.restore(images)));
    } catch (RuntimeException e) { // name the moment (and the seed of a random one)
      throw new AssertionError(workload + " " + args + " dumped " + moment + ": " + e, e);
    }
  }
}
