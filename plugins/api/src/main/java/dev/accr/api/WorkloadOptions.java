package dev.accr.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code --name value} options of a workload's command line, parsed against the names it
 * accepts. Unknown names and missing values are usage errors.
 */
public final class WorkloadOptions {
  private final String workload;
  private final Map<String, String> values;

  private WorkloadOptions(String workload, Map<String, String> values) {
    this.workload = workload;
    this.values = values;
  }

  /** Parses {@code args}; every option must be one of {@code known} (without dashes). */
  public static WorkloadOptions parse(String workload, List<String> args, Set<String> known) {
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--")) {
        throw AccrException.usage("%s: unexpected argument '%s'", workload, arg);
      }
      String name = arg.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.size()) {
        value = args.get(++i);
      } else {
        throw AccrException.usage("%s: option --%s needs a value", workload, name);
      }
      if (!known.contains(name)) {
        throw AccrException.usage("%s: unknown option %s (known: --%s)", workload,
            Untrusted.quote("--" + name), String.join(", --", known));
      }
      values.put(name, value);
    }
    return new WorkloadOptions(workload, values);
  }

  /** A non-negative whole number, or {@code fallback} when absent. */
  public long getLong(String name, long fallback, long min, long max) {
    String raw = values.get(name);
    if (raw == null) {
      return fallback;
    }
    long value;
    try {
      value = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw AccrException.usage("%s: --%s: not a number: %s", workload, name,
          Untrusted.quote(raw));
    }
    if (value < min || value > max) {
      throw AccrException.usage("%s: --%s: %d is out of range [%d, %d]", workload, name, value,
          min, max);
    }
    return value;
  }

  public String getString(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }
}
