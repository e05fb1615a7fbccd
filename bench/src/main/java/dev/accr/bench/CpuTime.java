package dev.accr.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;

/**
 * CPU time of this JVM, all its threads together, in user space and in the kernel apart
 * (getrusage(2) through FFM) where the platform has it: a write that costs more CPU in the
 * kernel is told from one that costs more in the JVM. {@code compilerNs}, a part of the two,
 * is the JIT compiler threads' (0 where unknown): code that has just grown hot is compiled
 * during the first dumps of a JVM, a one-off cost that is not the dump's own work.
 */
record CpuTime(long userNs, long systemNs, long compilerNs) {
  private static final int RUSAGE_SELF = 0;
  /** struct rusage on 64-bit Linux: two struct timeval, then 14 longs. */
  private static final long RUSAGE_BYTES = 144;
  private static final MethodHandle GETRUSAGE = getrusage();

  /** Nanoseconds in all. */
  long totalNs() {
    return userNs + systemNs;
  }

  /** What this JVM used since {@code before}. */
  CpuTime since(CpuTime before) {
    // A compiler thread that ended meanwhile takes its time along: never below zero.
    return new CpuTime(userNs - before.userNs, systemNs - before.systemNs,
        Math.max(0, compilerNs - before.compilerNs));
  }

  /** Now; without getrusage all of it is counted as user time. */
  static CpuTime ofThisJvm() {
    if (GETRUSAGE != null) {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment usage = arena.allocate(RUSAGE_BYTES, 8);
        if ((int) GETRUSAGE.invokeExact(RUSAGE_SELF, usage) == 0) {
          return new CpuTime(timeval(usage, 0), timeval(usage, 16), CompilerThreads.cpuNs());
        }
      } catch (Throwable e) {
        // fall through to the JVM's own figure
      }
    }
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return new CpuTime(Math.max(0, os.getProcessCpuTime()), 0, CompilerThreads.cpuNs());
    }
    return new CpuTime(0, 0, 0);
  }

  private static long timeval(MemorySegment usage, long offset) {
    return usage.get(ValueLayout.JAVA_LONG, offset) * 1_000_000_000L
        + usage.get(ValueLayout.JAVA_LONG, offset + 8) * 1_000L;
  }

  private static MethodHandle getrusage() {
    if (!System.getProperty("os.name", "").startsWith("Linux")
        || !"amd64".equals(System.getProperty("os.arch"))
            && !"aarch64".equals(System.getProperty("os.arch"))) {
      return null;
    }
    Linker linker = Linker.nativeLinker();
    return linker.defaultLookup().find("getrusage").map(f -> linker.downcallHandle(f,
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS)))
        .orElse(null);
  }
}
