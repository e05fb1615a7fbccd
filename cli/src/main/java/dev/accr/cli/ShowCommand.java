package dev.accr.cli;

import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import dev.accr.api.CorruptImageException;
import dev.accr.engine.ImageDecoder;
import dev.accr.engine.ImageJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code accr show}: decodes an image file, or every file of a set, as text or JSON. */
@Command(name = "show", mixinStandardHelpOptions = true,
    description = "Decode an image file or a whole image set.")
final class ShowCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DIR|FILE",
      description = "An image set (its files one after another) or one image file.")
  Path target;

  @Option(names = "--json", description = "Print JSON (protobuf's JSON mapping); 'accr encode'"
      + " turns the JSON of a file back into the file.")
  boolean json;

  @Option(names = "--no-payload", description = "In JSON, leave out the stored bytes of the"
      + " chunks of bulk-data files (pages, VRAM).")
  boolean noPayload;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    List<Path> files = filesOf(target);
    if (json) {
      out.println(json(files, !Files.isDirectory(target)));
    } else {
      for (Path f : files) {
        ImageDecoder.Decoded d = ImageDecoder.decode(f, plugins());
        out.printf("# %s: %s v%d, id %s%n", f.getFileName(), d.header().kind().formatName(),
            d.header().version(), d.header().id());
        for (Message m : d.entries()) {
          out.printf("%s {%n%s}%n", m.getDescriptorForType().getName(),
              TextFormat.printer().printToString(m).indent(2));
        }
      }
    }
    return 0;
  }

  private static List<Path> filesOf(Path target) throws IOException {
    if (!Files.exists(target)) {
      throw new CorruptImageException(target.toString(), "no such file or directory");
    }
    if (!Files.isDirectory(target)) {
      return List.of(target);
    }
    try (Stream<Path> s = Files.list(target)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".img")).sorted().toList();
    }
  }

  private String json(List<Path> files, boolean single) throws IOException {
    if (single) {
      return ImageJson.of(files.getFirst(), !noPayload, plugins());
    }
    List<String> all = new ArrayList<>();
    for (Path f : files) {
      all.add(ImageJson.of(f, !noPayload, plugins()));
    }
    return ImageJson.array(all);
  }

  private dev.accr.plugin.PluginHost plugins() {
    return dev.accr.plugin.PluginHost.of(AccrCommand.registry(spec).plugins());
  }
}
