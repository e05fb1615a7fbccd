package dev.accr.cli;

import dev.accr.api.Sizes;
import dev.accr.engine.Compactor;
import dev.accr.engine.DumpOptions;
import dev.accr.image.Compression;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code accr compact}: folds a chain of incremental sets into one full set. */
@Command(name = "compact", mixinStandardHelpOptions = true,
    description = "Write one full image set equal to a chain of incremental sets (for archiving"
        + " or dropping old links); it restores exactly as the chain does.")
final class CompactCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = {"-D", "--images-dir"}, required = true, paramLabel = "DIR",
      description = "The last set of the chain.")
  Path dir;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT",
      description = "Directory for the full set; must not exist or be empty.")
  Path out;

  @Option(names = "--compress", defaultValue = "none", paramLabel = "zstd[:L]|none",
      description = "Compression of the pages (default: ${DEFAULT-VALUE}).")
  String compress;

  @Override
  public Integer call() throws Exception {
    Compactor.Result r = Compactor.compact(dir, out, DumpOptions.defaults()
        .withCompression(Compression.parse(compress)), AccrCommand.registry(spec).plugins());
    spec.commandLine().getOut().printf("compacted %d link(s) of %s into %s: %d pages, %s%n",
        r.links(), dir, out.toAbsolutePath(), r.pages(), Sizes.bytes(r.bytesWritten()));
    return 0;
  }
}
