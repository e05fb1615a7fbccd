package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.Version;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The template plugin's jar that the reactor built before the cli: tests load it from a plugin
 * directory, as a user would (it is kept off the test class path).
 */
final class TemplateJar {
  private TemplateJar() {}

  /** The jar of this version (an older one may still lie in a target directory not cleaned). */
  static Path path() {
    Path jar = Path.of(System.getProperty("accr.templateTarget", "../plugins/template/target"))
        .resolve("accr-plugin-template-" + Version.get() + ".jar").toAbsolutePath().normalize();
    assertTrue(Files.isRegularFile(jar), "the template jar " + jar + " was not built");
    return jar;
  }
}
