package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.engine.Benchmark;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code accr bench}: runs one of the installed {@link Benchmark}s, by default the memory
 * benchmark. Each other benchmark is selected by a flag named after it, and its own settings
 * are options of this command; their meaning is the benchmark's.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    modelTransformer = BenchCommand.BenchmarkOptions.class,
    description = {"Measure dump and restore throughput of process memory, or run another"
        + " installed benchmark (selected by its flag below).",
        "Each figure is a median of --runs runs and a ratio to an in-JVM copy of the same size."})
final class BenchCommand implements Callable<Integer> {
  /** The benchmark that runs when no other is selected. */
  static final String DEFAULT = "memory";

  @Spec CommandSpec spec;

  @Option(names = "--size-mib", paramLabel = "MIB", defaultValue = "1024",
      description = "Memory per process or device (default: ${DEFAULT-VALUE}).")
  int sizeMib;

  @Option(names = "--dir", paramLabel = "DIR", defaultValue = "/dev/shm", description = "Where images go (default: ${DEFAULT-VALUE}).")
  Path dir;

  @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "Runs per case (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "2", description = "Unmeasured runs before the"
      + " runs of each case, so that every case is measured with its code compiled (default:"
      + " ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "I/O threads (default: one per core).")
  int threads;

  @Mixin PluginOptions pluginOptions;

  @Override
  public Integer call() throws Exception {
    if (runs < 1 || warmup < 0) {
      throw AccrException.usage("--runs must be at least 1 and --warmup at least 0");
    }
    ParseResult parsed = spec.commandLine().getParseResult();
    Benchmark benchmark = selected(parsed);
    Map<String, String> settings = settings(benchmark, parsed);
    PrintWriter out = spec.commandLine().getOut();
    benchmark.run(new Benchmark.Parameters(AccrCommand.registry(spec), sizeMib, dir, warmup, runs, threads,
        pluginOptions.toMap(), settings), out);
    out.flush();
    return 0;
  }

  /** The benchmark whose flag was given, or the default one. */
  private static Benchmark selected(ParseResult parsed) {
    Benchmark chosen = null;
    for (Benchmark b : benchmarks()) {
      if (!b.name().equals(DEFAULT) && parsed.hasMatchedOption("--" + b.name())) {
        if (chosen != null) {
          throw AccrException.usage("--%s and --%s: choose one benchmark", chosen.name(), b.name());
        }
        chosen = b;
      }
    }
    if (chosen != null) {
      return chosen;
    }
    return benchmarks().stream().filter(b -> b.name().equals(DEFAULT)).findFirst()
        .orElseThrow(() -> AccrException.failed("no '%s' benchmark is installed", DEFAULT));
  }

  /**
   * The selected benchmark's settings, given or defaulted; a usage error for a setting given
   * that only another benchmark has.
   */
  private static Map<String, String> settings(Benchmark benchmark, ParseResult parsed) {
    Map<String, String> values = new HashMap<>();
    for (Benchmark.Setting s : benchmark.settings()) {
      OptionSpec option = parsed.commandSpec().findOption("--" + s.name());
      String value = s.isFlag() ? String.valueOf(parsed.hasMatchedOption(option))
          : option.getValue();
      if (value != null) {
        values.put(s.name(), value);
      }
    }
    for (Benchmark other : benchmarks()) {
      for (Benchmark.Setting s : other.settings()) {
        if (!values.containsKey(s.name()) && parsed.hasMatchedOption("--" + s.name())) {
          throw AccrException.usage("--%s belongs to --%s", s.name(), other.name());
        }
      }
    }
    return values;
  }

  /** The benchmarks on accr's class path, in the order their jars list them. */
  static List<Benchmark> benchmarks() {
    return ServiceLoader.load(Benchmark.class, BenchCommand.class.getClassLoader()).stream()
        .map(ServiceLoader.Provider::get).toList();
  }

  /**
   * Adds, when the command line is built, a flag for each benchmark but the default one and
   * an option for each benchmark's setting (one option for a name two benchmarks share).
   */
  public static final class BenchmarkOptions implements IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
      Set<String> settings = new HashSet<>();
      for (Benchmark b : benchmarks()) {
        if (!b.name().equals(DEFAULT)) {
          add(spec, OptionSpec.builder("--" + b.name()).arity("0").type(boolean.class)
              .description(b.description()).build());
        }
        for (Benchmark.Setting s : b.settings()) {
          if (settings.add(s.name())) {
            add(spec, option(b, s));
          }
        }
      }
      return spec;
    }

    /** An option for a setting; its help says which benchmark it is for, and its default. */
    private static OptionSpec option(Benchmark b, Benchmark.Setting s) {
      List<String> notes = new ArrayList<>();
      if (!b.name().equals(DEFAULT)) {
        notes.add("--" + b.name());
      }
      if (s.defaultValue() != null) {
        notes.add("default: " + s.defaultValue());
      }
      String description = s.description()
          + (notes.isEmpty() ? "" : " (" + String.join(", ", notes) + ")");
      OptionSpec.Builder option = OptionSpec.builder("--" + s.name()).description(description);
      if (s.isFlag()) {
        return option.arity("0").type(boolean.class).build();
      }
      return option.arity("1").type(String.class).paramLabel(s.paramLabel())
          .defaultValue(s.defaultValue()).build();
    }

    private static void add(CommandSpec spec, OptionSpec option) {
      if (spec.findOption(option.longestName()) != null) {
        throw new IllegalStateException("a benchmark declares " + option.longestName()
            + ", which accr bench already has");
      }
      spec.addOption(option);
    }
  }
}
