package dev.accr.api;

import com.google.protobuf.Message;
import java.util.List;

/**
 * What a plugin says about its part of an image set (API version 4), for {@code accr inspect}
 * ({@link AccrPlugin#summarize}) and {@code accr diff} ({@link AccrPlugin#diff}). The plugin's
 * own message is the {@code --json} form; the tables are the text and HTML form. The core
 * prints both and knows nothing of their fields.
 *
 * @param details the plugin's own message, printed as JSON
 * @param tables what text output and the HTML page show, in order
 * @param deviceBytes device memory saved, before zero skipping and compression (0 for a diff)
 * @param deviceStoredBytes bytes the saved device memory takes in the set (0 for a diff)
 */
public record PluginReport(Message details, List<ReportTable> tables, long deviceBytes,
    long deviceStoredBytes) {
  public PluginReport {
    if (details == null) {
      throw new IllegalArgumentException("a report needs its message");
    }
    tables = List.copyOf(tables);
  }

  /** A report without device memory figures (a diff). */
  public PluginReport(Message details, List<ReportTable> tables) {
    this(details, tables, 0, 0);
  }
}
