package dev.accr.api;

import com.google.protobuf.Message;
import java.util.List;
import java.util.Set;

/**
 * What a plugin says about its part of an image set (API version 4), for {@code accr inspect}
 * ({@link AccrPlugin#summarize}) and {@code accr diff} ({@link AccrPlugin#diff}). The plugin's
 * own message is the {@code --json} form; the tables are the text and HTML form, the charts and
 * the used devices add pictures to the HTML form. The core prints all of them and knows nothing
 * of their fields.
 *
 * @param details the plugin's own message, printed as JSON
 * @param tables what text output and the HTML page show, in order
 * @param charts pictures the HTML page shows above the tables, in order
 * @param usedDevices the topology devices the set's processes used, by {@link DeviceLabel#id};
 *     the topology picture outlines them
 * @param deviceBytes device memory saved, before zero skipping and compression (0 for a diff)
 * @param deviceStoredBytes bytes the saved device memory takes in the set (0 for a diff)
 */
public record PluginReport(Message details, List<ReportTable> tables, List<ReportChart> charts,
    Set<Integer> usedDevices, long deviceBytes, long deviceStoredBytes) {
  public PluginReport {
    if (details == null) {
      throw new IllegalArgumentException("a report needs its message");
    }
    tables = List.copyOf(tables);
    charts = List.copyOf(charts);
    usedDevices = Set.copyOf(usedDevices);
  }

  /** A report of tables alone, without pictures or device memory figures (a diff). */
  public PluginReport(Message details, List<ReportTable> tables) {
    this(details, tables, List.of(), Set.of(), 0, 0);
  }
}
