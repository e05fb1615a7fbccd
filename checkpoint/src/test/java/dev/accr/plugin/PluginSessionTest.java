package dev.accr.plugin;

import static dev.accr.testkit.ImageDamage.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.PluginContext;
import dev.accr.api.PluginOption;
import dev.accr.engine.DumpOptions;
import dev.accr.image.CheckpointId;
import dev.accr.kernel.Node;
import dev.accr.kernel.Registry;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.RecordingPlugin;
import dev.accr.testkit.Scenarios;
import dev.accr.workload.CounterWorkload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plugin host and its sessions: hook order, rollback, and option checks. */
class PluginSessionTest {
  private static final PluginOption STAGING =
      PluginOption.integer("staging-mib", 64, 1, 4096, "staging buffers");
  private static final PluginOption COPY =
      PluginOption.choice("copy", "dma", List.of("dma", "cpu"), "how to copy");

  @TempDir Path tmp;
  private final List<String> log = new ArrayList<>();

  private Node node(AccrPlugin... plugins) {
    Registry r = Registry.of(List.of(plugins), List.of(), List.of(new CounterWorkload()));
    return new Node("n", r.topologies().load("cpu-only"), r);
  }

  private SimProcess counter(Node node) {
    return node.create("counter", List.of("--mem-mib", "1", "--steps", "10", "--out",
        tmp.resolve("c.out").toString()), tmp, 0);
  }

  @Test
  void dumpRunsTheHooksInOrderOnEveryPluginByName() throws Exception {
    Node node = node(new RecordingPlugin("bbb", log), new RecordingPlugin("aaa", log));
    SimProcess p = counter(node);
    Scenarios.step(p, 3);
    Scenarios.dump(node, p, tmp.resolve("set"), DumpOptions.defaults());
    assertEquals(List.of("aaa:init", "bbb:init", "aaa:pauseDevices", "bbb:pauseDevices",
        "aaa:checkpointDevices", "bbb:checkpointDevices", "aaa:dumpDevicesLate",
        "bbb:dumpDevicesLate", "aaa:fini(true)", "bbb:fini(true)"), log);
  }

  @Test
  void restoreRunsTheHooksInOrder() throws Exception {
    Node node = node(new RecordingPlugin("aaa", log));
    SimProcess p = counter(node);
    Scenarios.step(p, 3);
    Scenarios.dump(node, p, tmp.resolve("set"), DumpOptions.defaults());
    log.clear();
    SimProcess restored = Scenarios.restore(node, tmp.resolve("set"));
    assertEquals(p.pid(), restored.pid());
    assertEquals(List.of("aaa:init", "aaa:mapDevices", "aaa:postForking",
        "aaa:resumeDevicesLate", "aaa:fini(true)"), log);
  }

  @Test
  void aFailingHookRollsBackEveryPluginAndLeavesNoSet() throws Exception {
    Node node = node(new RecordingPlugin("aaa", log),
        new RecordingPlugin("bbb", log, AccrPlugin.API_VERSION, List.of(), "checkpointDevices"),
        new RecordingPlugin("ccc", log));
    SimProcess p = counter(node);
    Scenarios.step(p, 2);
    assertFails(AccrException.FAILED, "bbb fails in checkpointDevices", "dump",
        () -> Scenarios.dump(node, p, tmp.resolve("set"), DumpOptions.defaults()));
    assertEquals(List.of("aaa:fini(false)", "bbb:fini(false)", "ccc:fini(false)"),
        log.subList(log.size() - 3, log.size()));
    assertFalse(Files.exists(tmp.resolve("set")));
    assertTrue(node.hasPid(p.pid()), "the process is thawed, not killed");
    assertTrue(p.stepInline(), "and runs on");
  }

  @Test
  void aPluginStepThatWaitsSeesTheOperationCancelledAndTheDumpFailsLeavingTheProcess()
      throws Exception {
    java.util.concurrent.CountDownLatch waiting = new java.util.concurrent.CountDownLatch(1);
    AccrPlugin waiter = new AccrPlugin() {
      @Override
      public String name() {
        return "waiter";
      }

      @Override
      public boolean checkpointDevices(PluginContext ctx, dev.accr.api.ProcessView process) {
        waiting.countDown();
        while (!ctx.cancelled()) { // a device that never answers
          Thread.onSpinWait();
        }
        throw AccrException.failed("waiter: gave up, the operation is cancelled");
      }
    };
    Node node = node(waiter);
    SimProcess p = counter(node);
    Scenarios.step(p, 2);
    java.util.concurrent.atomic.AtomicBoolean cancel = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.CompletableFuture<Void> dump = java.util.concurrent.CompletableFuture
        .runAsync(() -> {
          try {
            new dev.accr.engine.Dumper(node, PluginHost.of(node.registry().plugins()))
                .cancelledBy(() -> {
                  if (cancel.get()) {
                    throw AccrException.failed("cancelled");
                  }
                }).dump(p.pid(), tmp.resolve("set"), DumpOptions.defaults(),
                    dev.accr.image.ProgressListener.NONE);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
    waiting.await();
    cancel.set(true);
    Throwable failed = assertThrows(java.util.concurrent.ExecutionException.class,
        () -> dump.get(30, java.util.concurrent.TimeUnit.SECONDS)).getCause();
    assertTrue(failed.getMessage().contains("gave up"), failed.toString());
    assertFalse(Files.exists(tmp.resolve("set")), "no set");
    assertTrue(node.hasPid(p.pid()), "the process is still there");
  }

  @Test
  void aFailingFiniStillReachesTheOtherPlugins() throws Exception {
    Node node = node(
        new RecordingPlugin("aaa", log, AccrPlugin.API_VERSION, List.of(), "fini(false)"),
        new RecordingPlugin("bbb", log, AccrPlugin.API_VERSION, List.of(), "dumpDevicesLate"),
        new RecordingPlugin("ccc", log));
    SimProcess p = counter(node);
    AccrException e = assertThrows(AccrException.class,
        () -> Scenarios.dump(node, p, tmp.resolve("set"), DumpOptions.defaults()));
    assertTrue(e.getMessage().contains("bbb fails in dumpDevicesLate"), e.getMessage());
    assertTrue(log.containsAll(List.of("aaa:fini(false)", "bbb:fini(false)", "ccc:fini(false)")),
        log.toString());
  }

  @Test
  void aFailingInitGivesEveryPluginFiniFalse() {
    Node node = node(new RecordingPlugin("aaa", log),
        new RecordingPlugin("bbb", log, AccrPlugin.API_VERSION, List.of(), "init"),
        new RecordingPlugin("ccc", log));
    PluginHost host = PluginHost.of(node.registry().plugins());
    assertThrows(AccrException.class, () -> host.begin(AccrPlugin.Stage.DUMP, setup(node)));
    assertEquals(List.of("aaa:init", "bbb:init", "aaa:fini(false)", "bbb:fini(false)",
        "ccc:fini(false)"), log);
  }

  @Test
  void aDryRunMapsDevicesWithoutInitOrFini() {
    Node node = node(new RecordingPlugin("aaa", log));
    PluginHost host = PluginHost.of(node.registry().plugins());
    try (PluginSession s = host.begin(AccrPlugin.Stage.MAP, setup(node))) {
      assertEquals(List.of(), s.mapDevices(node.topology()));
    }
    assertEquals(List.of("aaa:mapDevices"), log);
  }

  private SessionSetup setup(Node node) {
    return SessionSetup.of(node, tmp, CheckpointId.random());
  }

  private AccrException begin(Map<String, String> options, AccrPlugin... plugins) {
    Node node = node(plugins);
    return assertThrows(AccrException.class, () -> PluginHost.of(node.registry().plugins())
        .begin(AccrPlugin.Stage.MAP, setup(node).withOptions(options)).close());
  }

  @Test
  void anOptionOfAnUnknownPluginIsAUsageErrorNamingTheInstalledOnes() {
    AccrException e = begin(Map.of("foo.bar", "1"), new RecordingPlugin("aaa", log),
        new RecordingPlugin("bbb", log));
    assertEquals(AccrException.USAGE, e.exitCode());
    assertTrue(e.getMessage().contains("no plugin 'foo'")
        && e.getMessage().contains("installed: aaa, bbb"), e.getMessage());
  }

  @Test
  void anUndeclaredOptionIsAUsageErrorNamingThePluginsOptions() {
    AccrException e = begin(Map.of("aaa.nonsense", "3"),
        new RecordingPlugin("aaa", log, AccrPlugin.API_VERSION, List.of(STAGING, COPY), null));
    assertEquals(AccrException.USAGE, e.exitCode());
    assertTrue(e.getMessage().contains("plugin aaa has no option 'nonsense'")
        && e.getMessage().contains("options: copy, staging-mib"), e.getMessage());
  }

  @Test
  void aValueOutOfRangeIsAUsageErrorWithReasonAndRange() {
    AccrPlugin p = new RecordingPlugin("aaa", log, AccrPlugin.API_VERSION, List.of(STAGING, COPY),
        null);
    AccrException e = begin(Map.of("aaa.staging-mib", "0"), p);
    assertEquals(AccrException.USAGE, e.exitCode());
    assertTrue(e.getMessage().contains("0 is outside 1..4096"), e.getMessage());
    e = begin(Map.of("aaa.copy", "gpu"), p);
    assertTrue(e.getMessage().contains("'gpu' is not one of dma, cpu")
        && e.getMessage().contains("takes dma|cpu"), e.getMessage());
    e = begin(Map.of("aaa.staging-mib", "many"), p);
    assertTrue(e.getMessage().contains("'many' is not a whole number"), e.getMessage());
  }

  @Test
  void optionsOfAnOlderApiPluginAreNotChecked() {
    Node node = node(new RecordingPlugin("old", log, 3, List.of(STAGING), null));
    try (PluginSession s = PluginHost.of(node.registry().plugins()).begin(AccrPlugin.Stage.MAP,
        setup(node).withOptions(Map.of("old.anything", "goes", "old.staging-mib", "0")))) {
      assertEquals(AccrPlugin.Stage.MAP, s.stage());
    }
  }

  @Test
  void aPluginThatDoesNotSayItsApiVersionIsTakenAsApi3AndItsOptionsPassUnchecked() {
    AccrPlugin silent = () -> "quiet"; // compiled before plugins said their version
    assertEquals(3, silent.apiVersion());
    Node node = node(silent);
    try (PluginSession s = PluginHost.of(node.registry().plugins()).begin(AccrPlugin.Stage.MAP,
        setup(node).withOptions(Map.of("quiet.anything", "goes")))) {
      assertEquals(AccrPlugin.Stage.MAP, s.stage());
    }
  }

  @Test
  void aPluginReadsTheGivenValueElseTheDeclaredDefaultElseItsFallback() {
    Map<String, String> seen = new java.util.TreeMap<>();
    Function<PluginContext, Void> read = ctx -> {
      seen.put("given", ctx.option("copy", "x"));
      seen.put("default", ctx.option("staging-mib", "x"));
      seen.put("undeclared", ctx.option("other", "fallback"));
      return null;
    };
    for (int api : new int[] {AccrPlugin.API_VERSION, 3}) {
      AccrPlugin reading = new AccrPlugin() {
        @Override
        public String name() {
          return "aaa";
        }

        @Override
        public int apiVersion() {
          return api;
        }

        @Override
        public List<PluginOption> options() {
          return List.of(STAGING, COPY);
        }

        @Override
        public void init(PluginContext ctx) {
          read.apply(ctx);
        }
      };
      Node node = node(reading);
      PluginHost.of(node.registry().plugins()).begin(AccrPlugin.Stage.DUMP,
          setup(node).withOptions(Map.of("aaa.copy", "cpu"))).close();
      assertEquals(Map.of("given", "cpu", "default", api >= 4 ? "64" : "x",
          "undeclared", "fallback"), seen, "API " + api);
    }
  }
}
