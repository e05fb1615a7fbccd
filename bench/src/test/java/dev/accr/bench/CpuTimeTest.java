package dev.accr.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuTimeTest {
  @Test
  void workInTheJvmCountsAsUserTimeAndWritesAsKernelTime(@TempDir Path dir) throws Exception {
    CpuTime before = CpuTime.ofThisJvm();
    long sink = 0;
    long until = System.nanoTime() + 200_000_000L;
    while (System.nanoTime() < until) {
      for (int i = 0; i < 100_000; i++) {
        sink = sink * 31 + i;
      }
    }
    CpuTime spun = CpuTime.ofThisJvm().since(before);
    assertTrue(spun.userNs() >= 50_000_000L, "user time after 200 ms of spinning: " + spun
        + " (" + sink + ")");
    byte[] block = new byte[1 << 20];
    CpuTime beforeWrites = CpuTime.ofThisJvm();
    for (int i = 0; i < 256; i++) {
      Files.write(dir.resolve("f" + (i % 4)), block);
    }
    CpuTime wrote = CpuTime.ofThisJvm().since(beforeWrites);
    // Kernel time apart only where getrusage is called (Linux on amd64 or aarch64).
    assumeTrue(System.getProperty("os.name", "").startsWith("Linux")
        && List.of("amd64", "aarch64").contains(System.getProperty("os.arch")));
    assertTrue(wrote.systemNs() > 0, "kernel time after writing 256 MiB: " + wrote);
  }

  @Test
  void theJitCompilerThreadsTimeIsFoundOnLinux() {
    assumeTrue(System.getProperty("os.name", "").startsWith("Linux"));
    // By the time a test runs, the JVM has compiled its first hot methods.
    CpuTime now = CpuTime.ofThisJvm();
    assertTrue(now.compilerNs() > 0, "compiler threads' time: " + now);
    assertTrue(now.compilerNs() < now.totalNs(), "a part of the JVM's time: " + now);
  }
}
