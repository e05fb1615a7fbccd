package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.engine.ImageJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code accr encode}: the JSON of one image file (from {@code accr show --json}) back to the file. */
@Command(name = "encode", mixinStandardHelpOptions = true,
    description = "Encode the JSON form of an image file (accr show FILE --json) into the file.")
final class EncodeCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  /**
   * JSON larger than this is refused before it is read: decoding it takes a few times its size
   * in memory, which must fit a small heap. A chunk of 16 MiB is about 22 MiB in base64.
   */
  static final long MAX_JSON_BYTES = 48L << 20;

  @Parameters(paramLabel = "FILE.json",
      description = "JSON of one image file, as 'accr show FILE --json' prints it.")
  Path input;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE.img",
      description = "The image file to write (must not exist).")
  Path output;

  @Override
  public Integer call() throws IOException {
    String source = input.toString();
    java.nio.file.attribute.BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(input, java.nio.file.attribute.BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new CorruptImageException(source, "no such file");
    }
    if (!attributes.isRegularFile()) {
      throw new CorruptImageException(source, "not a regular file");
    }
    long size = attributes.size();
    if (size > MAX_JSON_BYTES) {
      throw new CorruptImageException(source, "file size: actual=" + size + " expected<="
          + MAX_JSON_BYTES);
    }
    String json;
    try {
      json = Files.readString(input, StandardCharsets.UTF_8);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new CorruptImageException(source, "not UTF-8 text");
    }
    ImageJson.Encoded encoded = ImageJson.encode(json, source,
        dev.accr.plugin.PluginHost.of(AccrCommand.registry(spec).plugins()));
    try {
      Files.write(output, encoded.bytes(), StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE);
    } catch (FileAlreadyExistsException e) {
      throw new AccrException(AccrException.FAILED, output + " exists: not overwritten");
    }
    return 0;
  }
}
