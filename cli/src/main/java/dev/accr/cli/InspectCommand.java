package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.engine.JsonOutput;
import dev.accr.kernel.Registry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr inspect}: a summary of an image set, as text, JSON or one HTML page. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = "Summarize an image set: process tree, threads, memory map, files, what"
        + " each plugin saved (devices), dump statistics.")
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "The image set to summarize.")
  Path dir;

  @Option(names = "--json", description = "Print the summary as JSON.")
  boolean json;

  @Option(names = "--html", paramLabel = "FILE",
      description = "Also write the summary as one self-contained HTML page with pictures of"
          + " the memory layout and the topology.")
  Path html;

  @Override
  public Integer call() throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new CorruptImageException(dir.toString(), "not an image set directory");
    }
    Registry registry = AccrCommand.registry(spec);
    SetSummaries.Inspection inspection = SetSummaries.of(dir, registry.plugins());
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? JsonOutput.print(inspection.summary(),
        PluginReports.types(inspection.reports())) + "\n" : SummaryText.of(inspection));
    if (html != null) {
      try {
        Files.writeString(html, SummaryHtml.of(inspection, dir.getFileName().toString(),
            DeviceLabels.of(registry)), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new AccrException(AccrException.FAILED, "cannot write " + html + ": " + e);
      }
    }
    return 0;
  }
}
