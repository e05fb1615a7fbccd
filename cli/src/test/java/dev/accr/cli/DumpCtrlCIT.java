package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.image.PartialSets;
import dev.accr.image.ProgressListener;
import dev.accr.proto.ProcessInfo;
import dev.accr.proto.PsRequest;
import dev.accr.proto.Request;
import dev.accr.proto.ShutdownRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C during {@code accr dump}: the command says in one line that the dump was cancelled and
 * the process left running, and it is; no set and no partial directory remain, only the log.
 */
class DumpCtrlCIT {
  private static final Path LAUNCHER = Path.of(System.getProperty("accr.launcher", "../accr"))
      .toAbsolutePath().normalize();

  @TempDir Path tmp;

  @Test
  void ctrlCCancelsTheDumpAndLeavesTheProcessRunning() throws Exception {
    Path run = Files.createDirectory(tmp.resolve("run"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    NodeDaemon node = NodeDaemon.start("c", "-Daccr.fault.stepDelayMs=150", run, tmp);
    try {
      int pid = node.startCounter(tmp.resolve("c.out"));
      Path images = Files.createDirectory(tmp.resolve("images"));
      Path set = images.resolve("set");
      // SIGINT may be ignored by whatever started this test; the command gets it as a user would.
      List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT",
          LAUNCHER.toString(), "dump", "--node", "c", "-t", "" + pid, "-D", set.toString()));
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile())
          .redirectOutput(tmp.resolve("out.txt").toFile())
          .redirectError(tmp.resolve("err.txt").toFile());
      pb.environment().put("ACCR_RUN_DIR", run.toString());
      Process dump = pb.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (PartialSets.find(images).isEmpty()) {
        assertTrue(dump.isAlive(), () -> "the dump ended early: " + read(tmp.resolve("err.txt")));
        assertTrue(System.nanoTime() < deadline, "the dump did not start");
        Thread.sleep(10);
      }
      new ProcessBuilder("kill", "-INT", "" + dump.pid()).start().waitFor();
      assertTrue(dump.waitFor(60, TimeUnit.SECONDS), "the command ended");

      String err = read(tmp.resolve("err.txt"));
      assertEquals(1, dump.exitValue(), err);
      assertEquals("accr: dump cancelled (Ctrl-C): process " + pid + " left running as it was"
          + " (log: " + set.resolve("dump.log") + ")\n", err);
      assertEquals("", read(tmp.resolve("out.txt")));
      ProcessInfo p = node.client().call(Request.newBuilder().setPs(PsRequest.getDefaultInstance())
          .build(), ProgressListener.NONE).getPs().getProcesses(0);
      assertEquals(pid, p.getPid());
      assertEquals("running", p.getState());
      assertEquals(List.of(), PartialSets.find(images), "no partial directory");
      assertEquals(List.of("dump.log"), List.of(set.toFile().list()), "no set: the log");
      assertTrue(read(set.resolve("dump.log")).contains("cancelled: the client went away"));
    } finally {
      node.client().call(Request.newBuilder().setShutdown(ShutdownRequest.newBuilder()
          .setForce(true)).build(), ProgressListener.NONE);
      node.process().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }
}
