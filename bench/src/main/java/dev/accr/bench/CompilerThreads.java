package dev.accr.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU time of this JVM's JIT compiler threads (HotSpot's "C1 CompilerThread" and "C2
 * CompilerThread", which the JVM's own management interface does not list), from Linux's
 * per-thread scheduler figures.
 */
final class CompilerThreads {
  private static final Path TASKS = Path.of("/proc/self/task");

  private CompilerThreads() {}

  /** Nanoseconds on a CPU of the compiler threads alive now; 0 where unknown. */
  static long cpuNs() {
    if (!Files.isDirectory(TASKS)) {
      return 0;
    }
    long ns = 0;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
      for (Path task : tasks) {
        ns += compilerNs(task);
      }
    } catch (IOException e) {
      return 0;
    }
    return ns;
  }

  private static long compilerNs(Path task) {
    try {
      String name = Files.readString(task.resolve("comm"));
      if (!name.contains("CompilerThre")) { // the kernel keeps 15 characters of the name
        return 0;
      }
      // schedstat: time on a CPU (ns), time waiting for one, time slices
      String schedstat = Files.readString(task.resolve("schedstat"));
      return Long.parseLong(schedstat.substring(0, schedstat.indexOf(' ')));
    } catch (IOException | RuntimeException e) {
      return 0; // the thread ended, or the kernel keeps no such figures
    }
  }
}
