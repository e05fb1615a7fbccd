package dev.accr.cli;

import dev.accr.api.AccrException;
import dev.accr.api.Untrusted;
import dev.accr.kernel.Registry;
import dev.accr.node.NodeClient;
import dev.accr.node.RunDirectory;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code accr node start}: starts a node daemon in a JVM of its own, detached from the
 * terminal, and returns once it answers on its socket.
 */
@Command(name = "start", mixinStandardHelpOptions = true, description = "Start a node daemon.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:the node answers on its socket",
        "1:it did not start (already running, a run directory others may enter, unusable TLS "
            + "material, address in use, ...)",
        "2:usage error (e.g. --listen without --tls, --insecure on an address that is not "
            + "loopback)"})
final class NodeStartCommand implements Callable<Integer> {
  private static final long READY_TIMEOUT_MS = 30_000;
  private static final Pattern HEAP = Pattern.compile("([0-9]+)([kKmMgG]?)");
  private static final long MIN_HEAP = 64L << 20;
  private static final long MAX_HEAP = 1L << 40;

  @Spec CommandSpec spec;

  @Option(names = "--name", paramLabel = "NAME", defaultValue = "default", description = "Node name (default: ${DEFAULT-VALUE}).")
  String name;

  @Option(names = "--topology", paramLabel = "PRESET|FILE", defaultValue = "cpu-only",
      description = "Preset name or topology file (default: ${DEFAULT-VALUE}).")
  String topology;

  @Mixin ListenOptions tcp;

  @Mixin NodeLimitOptions limits;

  @Option(names = "--images-root", paramLabel = "DIR", description = {
      "Where paths named by clients over TCP resolve; they cannot leave it",
      "(default: <run directory>/images/<name>)."})
  Path imagesRoot;

  @Option(names = "--heap", paramLabel = "SIZE", defaultValue = "2g",
      description = "Java heap of the node, e.g. 512m or 4g (default: ${DEFAULT-VALUE}).")
  String heap;

  @Override
  public Integer call() throws IOException, InterruptedException {
    RunDirectory.checkName(name);
    checkHeap(heap);
    tcp.listener(name); // refuse bad options and TLS material here, in the foreground
    limits.limits();
    Registry registry = AccrCommand.registry(spec);
    registry.topologies().load(topology); // fail here, in the foreground, on a bad topology
    String topologyArg = Files.isRegularFile(Path.of(topology))
        ? Path.of(topology).toAbsolutePath().toString() : topology;
    RunDirectory run = RunDirectory.fromEnvironment().create();
    Path socket = run.socket(name);
    if (Files.exists(socket) && NodeClient.isAlive(socket)) {
      throw AccrException.failed("node %s is already running", name);
    }
    Path log = run.log(name);
    Files.deleteIfExists(run.tcpAddress(name)); // a dead node's
    List<String> cmd = new ArrayList<>();
    if (new File("/usr/bin/setsid").canExecute()) {
      cmd.add("/usr/bin/setsid"); // own session: a Ctrl-C in this terminal does not reach it
    }
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(aotCache());
    cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-Xmx" + heap,
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "node", "serve", "--name", name, "--topology", topologyArg));
    cmd.addAll(tcp.args());
    cmd.addAll(limits.args());
    if (imagesRoot != null) {
      cmd.addAll(List.of("--images-root", imagesRoot.toAbsolutePath().toString()));
    }
    for (Path dir : registry.pluginDirs()) {
      cmd.addAll(List.of("--plugin-dir", dir.toString()));
    }
    Process daemon = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    long deadline = System.currentTimeMillis() + READY_TIMEOUT_MS;
    while (System.currentTimeMillis() < deadline) {
      if (Files.exists(socket) && NodeClient.isAlive(socket)) {
        // The node wrote the address it bound before it answered.
        String address = tcp.listen == null ? null : run.readTcpAddress(name);
        spec.commandLine().getOut().printf("node %s started (%s, log %s%s)%n", name, topology,
            log, address == null ? "" : ", tcp " + address);
        return 0;
      }
      if (!daemon.isAlive() && !(cmd.get(0).endsWith("setsid") && daemon.exitValue() == 0)) {
        throw AccrException.failed("node %s did not start: %s", name, lastLine(log));
      }
      Thread.sleep(50);
    }
    throw AccrException.failed("node %s did not answer within %d s (log %s)", name,
        READY_TIMEOUT_MS / 1000, log);
  }

  /**
   * The AOT cache this JVM was started with (./accr gives the jar's), for the daemon too: it
   * starts from the same jar, and the JVM quietly goes on without a cache that does not fit.
   * The daemon keeps the JVM's default compilers and collector.
   */
  private static List<String> aotCache() {
    String[] args = ProcessHandle.current().info().arguments().orElse(new String[0]);
    for (String a : args) {
      if (a.startsWith("-XX:AOTCache=")) {
        return List.of(a, "-Xlog:aot=off", "-Xlog:cds=off");
      }
    }
    return List.of();
  }

  /** The JVM's own words for a bad -Xmx are "A fatal exception": say what is wrong here. */
  static void checkHeap(String heap) {
    Matcher m = HEAP.matcher(heap);
    long bytes = -1;
    if (m.matches()) {
      int shift = switch (m.group(2).toLowerCase()) {
        case "k" -> 10;
        case "m" -> 20;
        case "g" -> 30;
        default -> 0;
      };
      long n = m.group(1).length() > 15 ? Long.MAX_VALUE : Long.parseLong(m.group(1));
      bytes = n > MAX_HEAP >> shift ? -1 : n << shift;
    }
    if (bytes < MIN_HEAP) {
      throw AccrException.usage("--heap %s: give a size from 64m to 1024g, a number with k, m"
          + " or g, e.g. 512m or 4g", Untrusted.quote(heap));
    }
  }

  /** The last line of the node's log that says why it stopped (not the JVM's epilogue). */
  private static String lastLine(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log).stream()
        .filter(l -> !l.isBlank() && !l.startsWith("Error: Could not create the Java Virtual")
            && !l.startsWith("Error: A fatal exception has occurred"))
        .toList();
    return lines.isEmpty() ? "no output (see " + log + ")"
        : lines.getLast().replaceFirst("^accr: ", "") + " (log " + log + ")";
  }
}
