package dev.accr.cli;

import dev.accr.api.Sizes;
import dev.accr.engine.DumpOptions;
import dev.accr.engine.ImageChecker;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr check}: verifies every checksum and cross-reference of an image set. */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Verify every checksum and cross-reference of an image set, and what restore"
        + " checks of its contents (with each plugin's own checks), without restoring.")
final class CheckCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "The image set to check.")
  Path dir;

  @Override
  public Integer call() throws Exception {
    ImageChecker.Report r = ImageChecker.check(dir, DumpOptions.defaultThreads(),
        dev.accr.plugin.PluginHost.of(AccrCommand.registry(spec).plugins()));
    spec.commandLine().getOut().printf("%s: OK (%d files, %d process(es), %d chunks, %s verified)%n",
        dir, r.files(), r.processes(), r.chunks(), Sizes.bytes(r.bytesVerified()));
    return 0;
  }
}
