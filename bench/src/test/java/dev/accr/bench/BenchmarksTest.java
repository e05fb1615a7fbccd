package dev.accr.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.engine.Benchmark;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Small runs of each benchmark: every case is reported, and settings take effect. */
class BenchmarksTest {
  @TempDir Path tmp;

  @Test
  void everyBenchmarkIsAService() {
    List<String> names = ServiceLoader.load(Benchmark.class).stream()
        .map(p -> p.get().name()).toList();
    assertEquals(List.of("memory", "vram", "incremental", "migrate", "tree", "to-node"), names);
  }

  @Test
  void memoryBenchmarkReportsEveryCase() throws IOException {
    String out = run(new MemoryBenchmark(), 1, Map.of(), Map.of("settle-ms", "0"));
    assertTrue(out.startsWith("memory 4.0 MiB, 1 runs each (median, after 1 warm-up)"), out);
    for (String content : List.of("incompressible", "half zero pages")) {
      for (String compression : List.of("none", "zstd:1")) {
        assertTrue(out.contains("dump " + content + ", " + compression + " ("), out);
        assertTrue(out.contains("restore " + content + ", " + compression), out);
      }
    }
    assertTrue(out.contains("limits for its 4.0 MiB: write "), out);
    assertTrue(out.contains("read into fresh memory"), out);
    assertTrue(out.lines().anyMatch(l -> l.matches("  CPU ms per GiB written, user \\+ kernel:"
        + " dump \\d+ \\+ \\d+, write limit \\d+ \\+ \\d+ \\(cores busy \\d+\\.\\d\\d and"
        + " \\d+\\.\\d\\d\\)")), out);
    assertTrue(out.lines().anyMatch(l -> l.matches("  of the dump's CPU per GiB, JIT compiler"
        + " threads \\(a JVM's warm-up, not the dump's own work\\): \\d+")), out);
    assertTrue(out.contains("dump + restore 100 pages in a 1023.9 GiB mapping"), out);
  }

  @Test
  void memoryBenchmarkPrintsJsonWithARatioToTheLimitOfEachFigure() throws IOException {
    String out = run(new MemoryBenchmark(), 0, Map.of(),
        Map.of("json", "true", "incompressible-only", "true", "settle-ms", "0"));
    com.google.protobuf.Struct.Builder parsed = com.google.protobuf.Struct.newBuilder();
    com.google.protobuf.util.JsonFormat.parser().merge(out, parsed);
    var cases = parsed.getFieldsOrThrow("cases").getListValue().getValuesList();
    assertEquals(1, cases.size(), out);
    var figures = cases.getFirst().getStructValue().getFieldsMap();
    assertEquals("incompressible, none", figures.get("case").getStringValue());
    // A dump and a write cost CPU, in the kernel at least.
    assertTrue(figures.get("dump_kernel_cpu_ms_per_gib").getNumberValue()
        + figures.get("dump_user_cpu_ms_per_gib").getNumberValue() > 0, out);
    assertTrue(figures.get("write_limit_kernel_cpu_ms_per_gib").getNumberValue()
        + figures.get("write_limit_user_cpu_ms_per_gib").getNumberValue() > 0, out);
    assertTrue(figures.get("dump_jit_cpu_ms_per_gib").getNumberValue() >= 0, out);
    for (String ratio : List.of("dump_x_write_limit", "restore_x_fresh_read_limit")) {
      double value = figures.get(ratio).getNumberValue();
      assertTrue(value > 0 && Double.isFinite(value), ratio + "=" + value);
    }
    assertTrue(parsed.getFieldsOrThrow("sparse").getStructValue().getFieldsOrThrow(
        "dump_plus_restore_ms").getNumberValue() > 0, out);
  }

  /** Plenty for the restores of the small runs here, whatever this machine has free. */
  private static final long AMPLE = 64L << 30;

  @Test
  void vramBenchmarkReportsEveryPathAndTheHostTarget() throws IOException {
    String out = run(new VramBenchmark(() -> AMPLE), 1, Map.of(),
        Map.of("gpus", "2", "staging-mib", "64", "dump-only", "false"));
    assertTrue(out.startsWith("VRAM 2 GPUs x 4.0 MiB, 1 runs each (median, after 1 warm-up)"),
        out);
    assertTrue(out.contains("staging 64 MiB"), out);
    assertTrue(out.contains("in-JVM memory copy (baseline)"), out);
    assertTrue(out.contains("dump host memory, none (target)"), out);
    for (String mode : List.of("dma", "cpu")) {
      for (String compression : List.of("none", "zstd:1")) {
        assertTrue(out.contains("dump VRAM " + mode + ", " + compression), out);
      }
    }
    // Each restore against its dump (medians, and run by run), and the DMA path's restores
    // onto a node never used.
    assertTrue(out.lines().anyMatch(l -> l.startsWith("restore VRAM dma, none")
        && l.matches(".* \\(\\d+\\.\\d\\d of dump; \\d+\\.\\d\\d run by run\\)")), out);
    assertEquals(2, out.lines().filter(l -> l.contains("into device memory never used")).count(),
        out);
  }

  @Test
  void vramBenchmarkSaysItSkipsTheRestoresWhenMemoryIsShortAndStillDumps() throws IOException {
    String out = run(new VramBenchmark(() -> 512L << 20), 0, Map.of(),
        Map.of("gpus", "1", "staging-mib", "64", "dump-only", "false"));
    assertTrue(out.contains("restores skipped: restoring beside the dumped process needs about"
        + " 1.0 GiB, 512.0 MiB available"), out);
    assertTrue(out.contains("dump host memory, none (target)"), out);
    for (String mode : List.of("dma", "cpu")) {
      for (String compression : List.of("none", "zstd:1")) {
        assertTrue(out.contains("dump VRAM " + mode + ", " + compression), out);
      }
    }
    assertFalse(out.contains("restore VRAM") || out.contains("never used"), out);
  }

  @Test
  void aPluginOptionForTheStagingBudgetWinsOverTheSetting() throws IOException {
    String out = run(new VramBenchmark(), 0, Map.of("kfd.staging-mib", "8"),
        Map.of("gpus", "1", "staging-mib", "64", "dump-only", "true"));
    assertTrue(out.contains("staging 8 MiB"), out);
    assertTrue(out.contains("dump VRAM dma, none") && out.contains("dump VRAM dma, zstd:1"), out);
    assertFalse(out.contains("cpu,") || out.contains("restore") || out.contains("baseline"), out);
  }

  @Test
  void aStagingBudgetTheKfdPluginRefusesFailsTheRun() {
    AccrException e = assertThrows(AccrException.class, () -> run(new VramBenchmark(), 0,
        Map.of(), Map.of("gpus", "1", "staging-mib", "1", "dump-only", "true")));
    assertEquals(AccrException.USAGE, e.exitCode(), e.getMessage());
  }

  @Test
  void gpusMustBeAWholeNumber() {
    AccrException e = assertThrows(AccrException.class, () -> run(new VramBenchmark(), 0,
        Map.of(), Map.of("gpus", "two", "staging-mib", "64", "dump-only", "false")));
    assertTrue(e.getMessage().contains("--gpus two"), e.getMessage());
  }

  @Test
  void treeBenchmarkComparesBytesWrittenWithTheTreesMemory() throws IOException {
    Runs runs = new Runs(0, 1);
    TreeBenchmark.Figures f = TreeBenchmark.measure(parameters(Map.of(),
        Map.of("tree-gpus", "2", "tree-vram-mib", "2", "json", "true")), runs, 2);
    String out = dev.accr.engine.JsonOutput.print(f.json(runs, 2));
    com.google.protobuf.Struct.Builder parsed = com.google.protobuf.Struct.newBuilder();
    com.google.protobuf.util.JsonFormat.parser().merge(out, parsed);
    var json = parsed.getFieldsMap();
    assertEquals(3, json.get("processes").getNumberValue(), out); // a launcher, two workers
    double vram = json.get("vram_bytes").getNumberValue();
    double shared = json.get("shared_vram_bytes").getNumberValue();
    assertTrue(vram >= 2 * (2 << 20), out); // weights and gradients, and the programs' own
    assertEquals(2 * (1 << 20), shared, out); // each worker's gradients: half its 2 MiB
    double once = json.get("memory_bytes").getNumberValue();
    assertTrue(json.get("memory_per_holder_bytes").getNumberValue() >= once + shared, out);
    double written = json.get("bytes_written").getNumberValue();
    assertTrue(written > 0 && written < once * 1.5, out); // zero pages are not stored
    assertTrue(json.get("dump_ms").getNumberValue() > 0
        && json.get("restore_ms").getNumberValue() > 0, out);
    StringWriter text = new StringWriter();
    f.print(new PrintWriter(text, true), runs, 2);
    assertTrue(text.toString().startsWith("tree kfd-ddp --gpus 2, 2 MiB of VRAM per GPU: 3"
        + " processes"), text.toString());
    for (String row : List.of("VRAM (shared buffers once)", "counted per holder",
        "bytes written by the dump", "dump", "restore")) {
      assertTrue(text.toString().contains(row), text.toString());
    }
  }

  @Test
  void toNodeBenchmarkGivesEachStreamedDumpAgainstTheLocalOne() throws IOException {
    String out = run(new ToNodeBenchmark(), 0, Map.of(), Map.of("to-node-compress", "none"));
    assertTrue(out.startsWith("dump --to-node: kfd-serve --gpus 2 with 4 MiB of VRAM per GPU"
        + " and 4 MiB of host memory, none, 2 threads"), out);
    // Time, GB/s, then CPU ms and cores busy; a streamed dump also its ratio and its bound.
    assertTrue(out.lines().anyMatch(l -> l.matches(
        "  local dump into b's directory +\\d+\\.\\d +\\d+\\.\\d\\d +\\d+ +\\d+\\.\\d\\d +")),
        out);
    for (String way : List.of("UNIX socket", "loopback TLS")) {
      assertTrue(out.lines().anyMatch(l -> l.matches("  --to-node over (the )?"
          + java.util.regex.Pattern.quote(way) + " +\\d+\\.\\d +\\d+\\.\\d\\d"
          + " +\\d+\\.\\d\\d +[1-9]\\d* +\\d+\\.\\d\\d +\\d+\\.\\d\\d")), out);
    }
    assertTrue(out.contains("CPU ms: this JVM's (both nodes'), "), out);
  }

  @Test
  void aFailingPartOfTheIncrementalBenchmarkFailsTheRunAfterTheOthersArePrinted() {
    StringWriter text = new StringWriter();
    // mi300x8 has 8 GPUs: the device part cannot start its workload; the host part runs.
    AccrException e = assertThrows(AccrException.class, () -> new IncrementalBenchmark().run(
        parameters(Map.of(), Map.of("host-only", "true", "device-only", "true", "gpus", "9")),
        new PrintWriter(text, true)));
    assertEquals(AccrException.FAILED, e.exitCode(), e.getMessage());
    assertTrue(e.getMessage().contains("device memory"), e.getMessage());
    assertTrue(text.toString().contains("device memory failed: "), text.toString());
    assertTrue(text.toString().lines().count() > 3, "the host part's figures: " + text);
  }

  private String run(Benchmark benchmark, int warmup, Map<String, String> pluginOptions,
      Map<String, String> settings) throws IOException {
    StringWriter text = new StringWriter();
    benchmark.run(new Benchmark.Parameters(dev.accr.kernel.Registry.load(java.util.List.of()), 4, tmp, warmup, 1, 2, pluginOptions, settings),
        new PrintWriter(text, true));
    return text.toString();
  }

  private Benchmark.Parameters parameters(Map<String, String> pluginOptions,
      Map<String, String> settings) {
    return new Benchmark.Parameters(dev.accr.kernel.Registry.load(List.of()), 4, tmp, 0, 1, 2,
        pluginOptions, settings);
  }
}
