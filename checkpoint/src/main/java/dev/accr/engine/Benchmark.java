package dev.accr.engine;

import dev.accr.api.AccrException;
import dev.accr.kernel.Registry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A benchmark that {@code accr bench} runs, found with {@link java.util.ServiceLoader}: the
 * command knows the parameters every benchmark shares and passes a benchmark's own settings
 * through without knowing what they mean.
 */
public interface Benchmark {
  /** Lowercase letters, digits and dashes; {@code accr bench --NAME} selects it. */
  String name();

  /** One line for help text. */
  String description();

  /** Settings of its own, given to {@code accr bench} as {@code --NAME [VALUE]}. */
  default List<Setting> settings() {
    return List.of();
  }

  /** Runs every case and prints a table of figures to {@code out}. */
  void run(Parameters parameters, PrintWriter out) throws IOException;

  /**
   * What a run is given.
   *
   * @param registry the installed extensions the benchmark's nodes use
   * @param sizeMib memory per process or device, in MiB
   * @param dir where images are written (and deleted after each run)
   * @param warmup unmeasured runs before the measured runs of each case
   * @param runs measured runs of each case, whose median is reported
   * @param threads I/O threads, 0 for the engine's default
   * @param pluginOptions {@code plugin.name -> value}, passed to every dump and restore
   * @param settings the benchmark's own {@link #settings()}, by name: every one given or with a
   *     default; a flag is {@code "true"} or {@code "false"}
   */
  record Parameters(Registry registry, int sizeMib, Path dir, int warmup, int runs, int threads,
      Map<String, String> pluginOptions, Map<String, String> settings) {
    public Parameters {
      Objects.requireNonNull(registry, "registry");
      Objects.requireNonNull(dir, "dir");
      pluginOptions = Map.copyOf(pluginOptions);
      settings = Map.copyOf(settings);
    }

    /** A setting's value, or null when it was not given and has no default. */
    public String setting(String name) {
      return settings.get(name);
    }

    /** Whether a flag setting was given. */
    public boolean flag(String name) {
      return Boolean.parseBoolean(settings.get(name));
    }

    /** An integer setting, a usage error when it is not one or is below {@code min}. */
    public int intSetting(String name, int min) {
      String value = settings.get(name);
      try {
        int v = Integer.parseInt(value);
        if (v >= min) {
          return v;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw AccrException.usage("--%s %s: expected a whole number of at least %d", name, value,
          min);
    }
  }

  /**
   * A setting of one benchmark.
   *
   * @param name lowercase letters, digits and dashes: the option is {@code --NAME}
   * @param paramLabel how help text shows its value; null for a flag, which takes none
   * @param defaultValue its value when not given; null for none (a flag's is false)
   * @param description one line for help text
   */
  record Setting(String name, String paramLabel, String defaultValue, String description) {
    public Setting {
      if (name == null || !name.matches("[a-z][a-z0-9-]*")) {
        throw new IllegalArgumentException("setting name '" + name + "' is not lowercase"
            + " letters, digits and dashes");
      }
      Objects.requireNonNull(description, "description");
    }

    /** A setting without a value: present or not. */
    public static Setting flag(String name, String description) {
      return new Setting(name, null, null, description);
    }

    /** A setting with a value. */
    public static Setting value(String name, String paramLabel, String defaultValue,
        String description) {
      return new Setting(name, Objects.requireNonNull(paramLabel, "paramLabel"), defaultValue,
          description);
    }

    public boolean isFlag() {
      return paramLabel == null;
    }
  }
}
