package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README.md's tour runs as written: its {@code ```sh tour} blocks, read from README.md itself,
 * run in one bash through {@code ./accr} and real nodes, in a private run directory and an
 * empty working directory. Every command must exit 0, or the code its {@code # exit N}
 * comment names; every {@code VAR=$(./accr run ...)} must capture a pid.
 */
class TourIT {
  private static final Path LAUNCHER = Path.of(System.getProperty("accr.launcher", "../accr"))
      .toAbsolutePath().normalize();
  private static final Pattern EXPECTED_EXIT = Pattern.compile("#\\s*exit (\\d+)\\b");
  private static final Pattern PID_CAPTURE =
      Pattern.compile("^([A-Z_]+)=\\$\\(\\./accr run .*\\)\\s*(#.*)?$");

  /** One command of the tour: its text (continuation lines joined) and expected exit code. */
  record Command(String text, int exit) {}

  /** The commands of README's tour blocks, in order. */
  static List<Command> tour(Path readme) throws IOException {
    List<Command> commands = new ArrayList<>();
    boolean inTour = false;
    StringBuilder pending = new StringBuilder();
    for (String line : Files.readAllLines(readme, StandardCharsets.UTF_8)) {
      if (!inTour) {
        inTour = line.strip().equals("```sh tour");
        continue;
      }
      if (line.strip().equals("```")) {
        inTour = false;
        continue;
      }
      if (pending.isEmpty() && (line.isBlank() || line.strip().startsWith("#"))) {
        continue;
      }
      if (line.endsWith("\\")) {
        pending.append(line, 0, line.length() - 1);
        continue;
      }
      String text = pending.append(line).toString().strip();
      pending.setLength(0);
      Matcher exit = EXPECTED_EXIT.matcher(text);
      commands.add(new Command(text, exit.find() ? Integer.parseInt(exit.group(1)) : 0));
    }
    return commands;
  }

  /** A bash script that runs the commands and stops at the first unexpected exit code. */
  static String script(List<Command> commands) {
    StringBuilder s = new StringBuilder("set -u -o pipefail\n");
    for (Command c : commands) {
      String quoted = "'" + c.text().replace("'", "'\\''") + "'";
      s.append("echo \"+ \"").append(quoted).append('\n');
      s.append(c.text()).append('\n');
      s.append("rc=$?; if [ $rc -ne ").append(c.exit()).append(" ]; then echo \"tour: exit $rc,")
          .append(" expected ").append(c.exit()).append(": \"").append(quoted)
          .append(" >&2; exit 100; fi\n");
      Matcher pid = PID_CAPTURE.matcher(c.text());
      if (pid.matches()) {
        String var = pid.group(1);
        s.append("if ! [[ $").append(var).append(" =~ ^[0-9]+$ ]]; then echo \"tour: ")
            .append(var).append("='$").append(var).append("' is not a pid\" >&2; exit 101; fi\n");
      }
    }
    return s.toString();
  }

  @Test
  void readmeTourRunsAsWritten(@TempDir Path tmp) throws Exception {
    Path readme = LAUNCHER.getParent().resolve("README.md");
    List<Command> commands = tour(readme);
    assertTrue(commands.size() > 20 && commands.stream().anyMatch(c -> c.exit() != 0),
        "README.md has a tour: " + commands);
    Path work = Files.createDirectories(tmp.resolve("work"));
    Path run = Files.createDirectories(tmp.resolve("run"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    // ./accr in the working directory is the project's launcher.
    Path accr = work.resolve("accr");
    Files.writeString(accr, "#!/usr/bin/env bash\nexec '" + LAUNCHER + "' \"$@\"\n");
    accr.toFile().setExecutable(true);
    Path log = tmp.resolve("tour.log");
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", script(commands))
        .directory(work.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("ACCR_RUN_DIR", run.toString());
    Process bash = pb.start();
    try {
      boolean ended = bash.waitFor(300, TimeUnit.SECONDS);
      String output = Files.readString(log);
      assertTrue(ended, "the tour did not end: " + output);
      assertEquals(0, bash.exitValue(), output);
      assertTrue(Files.exists(work.resolve("map.dot")) && Files.exists(work.resolve("gimg.html")),
          output);
      assertEquals(List.of(), nodesLeft(run), "the tour stops every node it starts");
    } finally {
      bash.destroyForcibly();
      stopAll(run, work);
    }
  }

  private static List<String> nodesLeft(Path run) throws IOException {
    try (Stream<Path> files = Files.list(run)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sock"))
          .map(n -> n.substring(0, n.length() - ".sock".length())).sorted().toList();
    }
  }

  /** Stops nodes a failed tour left running. */
  private static void stopAll(Path run, Path work) throws Exception {
    Launcher accr = new Launcher(run, work);
    for (String node : nodesLeft(run)) {
      accr.run("node", "stop", "--force", "--name", node);
    }
  }
}
