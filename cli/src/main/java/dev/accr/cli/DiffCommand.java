package dev.accr.cli;

import dev.accr.api.CorruptImageException;
import dev.accr.engine.JsonOutput;
import dev.accr.plugin.PluginHost;
import dev.accr.proto.SetDiff;
import dev.accr.proto.VmaChange;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr diff}: what changed between two checkpoints of one process or process tree. */
@Command(name = "diff", mixinStandardHelpOptions = true,
    description = {"Compare two image sets of one process or process tree: pages changed per"
        + " VMA of each process, changes of thread state, of the tree (parents, zombies,"
        + " pending signals), of pipes (buffered bytes) and shared memory, of device state,"
        + " and what each plugin compares (e.g. device memory).",
        "Exits 0 when the sets hold the same memory and state, 1 when they differ (like"
        + " diff(1)); warns when they are of different programs."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:same memory and state", "1:the sets differ",
        "2:usage error", "3:an image is corrupt or unreadable"})
final class DiffCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR1", description = "The earlier image set.")
  Path from;

  @Parameters(index = "1", paramLabel = "DIR2", description = "The later image set.")
  Path to;

  @Option(names = "--json", description = "Print the differences as JSON.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    for (Path dir : new Path[] {from, to}) {
      if (!Files.isDirectory(dir)) {
        throw new CorruptImageException(dir.toString(), "not an image set directory");
      }
    }
    SetDiffs.Comparison diff = SetDiffs.of(from, to,
        PluginHost.of(AccrCommand.registry(spec).plugins()));
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? JsonOutput.print(diff.diff(), PluginReports.types(diff.reports())) + "\n"
        : text(diff));
    out.flush();
    if (diff.otherProgram() != null) {
      spec.commandLine().getErr().println("accr: warning: " + diff.otherProgram());
    }
    return differ(diff.diff()) ? 1 : 0;
  }

  /** Whether any page, VMA or piece of state differs. */
  static boolean differ(SetDiff d) {
    return d.getStateChangesCount() > 0 || d.getVmasList().stream().anyMatch(v ->
        !v.getStatus().isEmpty() || v.getPages().getChanged() + v.getPages().getAdded()
            + v.getPages().getRemoved() > 0);
  }

  static String text(SetDiffs.Comparison comparison) {
    SetDiff d = comparison.diff();
    StringBuilder out = new StringBuilder("diff " + d.getFromId() + " -> " + d.getToId() + "\n");
    out.append("\nhost memory (pages)\n");
    TextTable vmas = new TextTable("  ", "pid", "start", "end", "name", "vma", "changed", "added",
        "removed", "same");
    for (VmaChange v : d.getVmasList()) {
      vmas.row(v.getPid(), SummaryText.hex(v.getStart()), SummaryText.hex(v.getEnd()),
          v.getName().isEmpty() ? "-" : v.getName(), v.getStatus().isEmpty() ? "kept"
              : v.getStatus(), v.getPages().getChanged(), v.getPages().getAdded(),
          v.getPages().getRemoved(), v.getPages().getSame());
    }
    out.append(vmas);
    out.append(PluginReports.text(comparison.reports()));
    out.append("\nstate changes\n");
    if (d.getStateChangesCount() == 0) {
      out.append("  none\n");
    }
    d.getStateChangesList().forEach(c -> out.append("  ").append(c).append('\n'));
    return out.toString();
  }
}
