package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.image.ProgressListener;
import dev.accr.node.NodeClient;
import dev.accr.node.RunDirectory;
import dev.accr.proto.DumpRequest;
import dev.accr.proto.Request;
import dev.accr.proto.RunRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A node daemon run in the foreground through {@code ./accr node serve}, with JVM options of
 * its own ({@code ACCR_JAVA_OPTS}), a private run directory and its output in a log.
 */
record NodeDaemon(String name, Process process, Path run, Path log) {
  private static final Path LAUNCHER = Path.of(System.getProperty("accr.launcher", "../accr"))
      .toAbsolutePath().normalize();

  /** Starts the node and returns once it answers. */
  static NodeDaemon start(String name, String javaOpts, Path run, Path cwd) throws Exception {
    Path log = cwd.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "node", "serve", "--name", name,
        "--topology", "cpu-only").directory(cwd.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("ACCR_RUN_DIR", run.toString());
    pb.environment().put("ACCR_JAVA_OPTS", javaOpts);
    NodeDaemon d = new NodeDaemon(name, pb.start(), run, log);
    Path socket = new RunDirectory(run).socket(name);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!(Files.exists(socket) && NodeClient.isAlive(socket))) {
      assertTrue(d.process.isAlive(), () -> name + " did not start: " + d.output());
      assertTrue(System.nanoTime() < deadline, name + " did not answer");
      Thread.sleep(20);
    }
    return d;
  }

  NodeClient client() {
    return NodeClient.of(name, new RunDirectory(run));
  }

  /** What the node printed so far. */
  String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return e.toString();
    }
  }

  /**
   * Starts a counter of 8 MiB (several chunks, most pages touched once it has stepped) and
   * returns its pid once it has stepped.
   */
  int startCounter(Path out) throws Exception {
    int pid = client().call(Request.newBuilder().setRun(RunRequest.newBuilder()
        .setWorkload("counter").setStepDelayMs(5).addAllArgs(List.of("--mem-mib", "8",
            "--pages-per-step", "4096", "--steps", "1000000", "--out", out.toString())))
        .build(), ProgressListener.NONE).getRun().getPid();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(out) || Files.size(out) == 0) {
      assertTrue(System.nanoTime() < deadline, "the counter did not step");
      Thread.sleep(10);
    }
    return pid;
  }

  static Request dump(int pid, Path dir, boolean leaveRunning) {
    return Request.newBuilder().setDump(DumpRequest.newBuilder().setPid(pid)
        .setDir(dir.toString()).setThreads(1).setLeaveRunning(leaveRunning)).build();
  }
}
