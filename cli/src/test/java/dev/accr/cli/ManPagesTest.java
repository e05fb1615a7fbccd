package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * docs/man holds a man page (AsciiDoc, as picocli's ManPageGenerator writes it) per command,
 * and they match the commands. After changing a command, regenerate them with
 * {@code ./build -pl cli -am verify -DskipITs -Dtest=ManPagesTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Daccr.man.write=true}; {@code asciidoctor -b
 * manpage docs/man/accr-dump.adoc} turns one into a roff page for {@code man}.
 */
class ManPagesTest {
  private static final Path DIR = Path.of(System.getProperty("accr.launcher", "../accr"))
      .toAbsolutePath().normalize().getParent().resolve("docs/man");

  /** Every command's page by file name, e.g. accr-node-start.adoc. */
  static Map<String, String> pages() {
    CommandLine root = AccrCommandLine.create(new PrintWriter(new StringWriter()),
        new PrintWriter(new StringWriter()), Map.of());
    // Pages name accr's version, not the JDK that generated them.
    root.getCommandSpec().versionProvider(() -> new String[] {"accr"});
    Map<String, String> pages = new TreeMap<>();
    add(root, pages);
    return pages;
  }

  private static void add(CommandLine cl, Map<String, String> pages) {
    CommandSpec spec = cl.getCommandSpec();
    StringWriter page = new StringWriter();
    ManPageGenerator.writeSingleManPage(new PrintWriter(page), spec);
    pages.put(spec.qualifiedName("-") + ".adoc", page.toString());
    cl.getSubcommands().values().stream().distinct()
        .filter(c -> !c.getCommandSpec().usageMessage().hidden())
        .forEach(c -> add(c, pages));
  }

  @Test
  void docsManHoldsThePageOfEveryCommandAsGenerated() throws IOException {
    Map<String, String> expected = pages();
    if (Boolean.getBoolean("accr.man.write")) {
      Files.createDirectories(DIR);
      try (Stream<Path> old = Files.list(DIR)) {
        for (Path p : old.filter(p -> p.toString().endsWith(".adoc")).toList()) {
          Files.delete(p);
        }
      }
      for (var e : expected.entrySet()) {
        Files.writeString(DIR.resolve(e.getKey()), e.getValue());
      }
    }
    assertTrue(expected.containsKey("accr-dump.adoc") && expected.size() > 20,
        expected.keySet().toString());
    List<String> stale = new ArrayList<>();
    Map<String, String> present = new TreeMap<>();
    if (Files.isDirectory(DIR)) {
      try (Stream<Path> files = Files.list(DIR)) {
        for (Path p : files.filter(p -> p.toString().endsWith(".adoc")).toList()) {
          present.put(p.getFileName().toString(), Files.readString(p));
        }
      }
    }
    for (String name : expected.keySet()) {
      if (!expected.get(name).equals(present.get(name))) {
        stale.add(present.containsKey(name) ? name + " differs" : name + " missing");
      }
    }
    present.keySet().stream().filter(n -> !expected.containsKey(n))
        .forEach(n -> stale.add(n + " names no command"));
    assertEquals(List.of(), stale, "docs/man is stale: regenerate it (see this test's javadoc)");
  }
}
