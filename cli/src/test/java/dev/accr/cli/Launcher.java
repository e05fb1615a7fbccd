package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code ./accr} launcher with its own run directory, as a user would. */
final class Launcher {
  /** What a command printed and returned. */
  record Result(int exitCode, String out, String err) {
    String line() {
      return out.strip();
    }
  }

  private final Path launcher = Path.of(System.getProperty("accr.launcher", "../accr"))
      .toAbsolutePath().normalize();
  private final Path runDir;
  private final Path cwd;

  Launcher(Path runDir, Path cwd) {
    this.runDir = runDir;
    this.cwd = cwd;
  }

  Result run(String... args) throws IOException, InterruptedException {
    return run(Map.of(), args);
  }

  /** Runs a command with extra environment variables. */
  Result run(Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(launcher.toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
    pb.environment().put("ACCR_RUN_DIR", runDir.toString());
    pb.environment().putAll(env);
    Path out = Files.createTempFile(cwd, "out-", ".txt");
    Path err = Files.createTempFile(cwd, "err-", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + String.join(" ", args));
    }
    Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  /** Runs a command that must succeed and returns its standard output. */
  String ok(String... args) throws IOException, InterruptedException {
    return ok(Map.of(), args);
  }

  /** Runs a command that must succeed, with extra environment variables. */
  String ok(Map<String, String> env, String... args) throws IOException, InterruptedException {
    Result r = run(env, args);
    assertEquals(0, r.exitCode(), () -> String.join(" ", args) + " failed: " + r.err());
    return r.out();
  }
}
