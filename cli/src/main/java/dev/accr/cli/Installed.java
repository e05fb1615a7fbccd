package dev.accr.cli;

import dev.accr.kernel.Registry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The extensions a command uses: accr's class path plus the jars of the plugin directories
 * named by {@code $ACCR_PLUGIN_DIR} (':'-separated; missing directories are skipped) and by
 * the command's own {@code --plugin-dir} options.
 */
final class Installed {
  static final String ENV = "ACCR_PLUGIN_DIR";

  private Installed() {}

  static Registry registry() {
    return registry(List.of());
  }

  static Registry registry(List<Path> extraDirs) {
    List<Path> dirs = new ArrayList<>();
    String env = System.getenv(ENV);
    if (env != null) {
      for (String d : env.split(":")) {
        if (!d.isBlank() && Files.isDirectory(Path.of(d))) {
          dirs.add(Path.of(d));
        }
      }
    }
    dirs.addAll(extraDirs);
    return Registry.load(dirs);
  }
}
