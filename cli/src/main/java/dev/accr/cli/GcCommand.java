package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.image.PartialSets;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code accr gc}: removes what dumps that died left in a directory (their temporary
 * {@code .NAME.partial-*} directories); those of dumps still running are kept.
 */
@Command(name = "gc", mixinStandardHelpOptions = true,
    description = "Remove the temporary directories (.NAME.partial-*) that dumps killed midway"
        + " left in DIR. Only directories accr marked are touched, never one still being"
        + " written.")
final class GcCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "The directory the image sets were dumped into.")
  Path dir;

  @Option(names = {"-n", "--dry-run"}, description = "List what would be removed; remove nothing.")
  boolean dryRun;

  @Override
  public Integer call() throws IOException {
    if (!Files.isDirectory(dir)) {
      throw AccrException.usage("gc: %s is not a directory", dir);
    }
    PrintWriter out = spec.commandLine().getOut();
    int removed = 0;
    int failed = 0;
    for (PartialSets.Leftover l : PartialSets.find(dir)) {
      if (l.writerAlive()) {
        out.printf("kept %s: %s is still writing it%n", l.dir(), l.writer());
      } else if (dryRun) {
        out.printf("would remove %s (left by %s)%n", l.dir(), l.writer());
        removed++;
      } else if (PartialSets.remove(l)) {
        out.printf("removed %s (left by %s)%n", l.dir(), l.writer());
        removed++;
      } else {
        spec.commandLine().getErr().printf("accr: gc: could not remove %s%n", l.dir());
        failed++;
      }
    }
    out.printf("%s %d leftover(s) in %s%n", dryRun ? "would remove" : "removed", removed, dir);
    return failed == 0 ? 0 : AccrException.FAILED;
  }
}
