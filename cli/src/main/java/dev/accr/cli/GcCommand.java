package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.api.Untrusted;
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
 * {@code .NAME.partial-*} directories, this user's and writable by no one else); those of dumps
 * still running are kept.
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
    // Names and markers are anyone's text: shown escaped, one line each.
    for (PartialSets.Leftover l : PartialSets.find(dir)) {
      String name = Untrusted.name(l.dir().toString());
      String writer = Untrusted.name(l.writer());
      if (l.writerAlive()) {
        out.printf("kept %s: %s is still writing it%n", name, writer);
      } else if (dryRun) {
        out.printf("would remove %s (left by %s)%n", name, writer);
        removed++;
      } else if (PartialSets.remove(l)) {
        out.printf("removed %s (left by %s)%n", name, writer);
        removed++;
      } else {
        spec.commandLine().getErr().printf("accr: gc: could not remove %s%n", name);
        failed++;
      }
    }
    out.printf("%s %d leftover(s) in %s%n", dryRun ? "would remove" : "removed", removed,
        Untrusted.name(dir.toString()));
    return failed == 0 ? 0 : AccrException.FAILED;
  }
}
