package dev.accr.bench;

import java.lang.management.ManagementFactory;

/** CPU time of this JVM, all its threads together. */
final class CpuTime {
  private CpuTime() {}

  /** Nanoseconds of CPU this JVM has used, or -1 where the platform does not say. */
  static long ofThisJvm() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }
}
