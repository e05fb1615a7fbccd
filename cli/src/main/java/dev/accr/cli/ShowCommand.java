package dev.accr.cli;

import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import com.google.protobuf.util.JsonFormat;
import dev.accr.api.CorruptImageException;
import dev.accr.engine.ImageDecoder;
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

  @Parameters(paramLabel = "DIR|FILE")
  Path target;

  @Option(names = "--json", description = "Print JSON (protobuf's JSON mapping).")
  boolean json;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    List<Path> files = filesOf(target);
    if (json) {
      out.println(files.size() == 1 && !Files.isDirectory(target) ? jsonOf(files.getFirst())
          : jsonOfSet(files));
    } else {
      for (Path f : files) {
        ImageDecoder.Decoded d = ImageDecoder.decode(f);
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

  private static String jsonOf(Path f) throws IOException {
    ImageDecoder.Decoded d = ImageDecoder.decode(f);
    List<String> entries = new ArrayList<>();
    for (Message m : d.entries()) {
      entries.add(JsonFormat.printer().print(m).indent(4).stripTrailing());
    }
    return "{\n  \"file\": \"" + f.getFileName() + "\",\n  \"kind\": \""
        + d.header().kind().formatName() + "\",\n  \"version\": " + d.header().version()
        + ",\n  \"id\": \"" + d.header().id() + "\",\n  \"entries\": [\n"
        + String.join(",\n", entries) + "\n  ]\n}";
  }

  private static String jsonOfSet(List<Path> files) throws IOException {
    List<String> parts = new ArrayList<>();
    for (Path f : files) {
      parts.add(jsonOf(f).indent(2).stripTrailing());
    }
    return "[\n" + String.join(",\n", parts) + "\n]";
  }
}
