package dev.accr.api;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An option a workload declares, given after its name as {@code --NAME VALUE}: {@code accr run
 * WORKLOAD --help} and {@code accr plugins WORKLOAD} list it without contacting a node.
 *
 * @param name lowercase letters, digits and dashes, without the leading {@code --}
 * @param valueLabel what the value is, for help, e.g. {@code MIB} or {@code FILE}
 * @param defaultValue what the workload uses when the option is absent, as text (e.g.
 *     {@code 64}, or {@code counter-PID.out})
 * @param description one line
 */
public record WorkloadOption(String name, String valueLabel, String defaultValue,
    String description) {
  public WorkloadOption {
    if (name == null || !name.matches("[a-z][a-z0-9-]*")) {
      throw new IllegalArgumentException("option name '" + name + "' is not lowercase letters,"
          + " digits and dashes");
    }
  }

  /** The names of {@code options}, to parse with {@link WorkloadOptions#parse}. */
  public static Set<String> names(List<WorkloadOption> options) {
    return options.stream().map(WorkloadOption::name)
        .collect(Collectors.toCollection(java.util.LinkedHashSet::new));
  }
}
