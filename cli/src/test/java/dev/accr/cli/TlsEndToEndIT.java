package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real node daemons on loopback TCP with TLS, driven through {@code ./accr} by address:
 * {@code tls init}, a process dumped on one node and restored on the other, and the refusals.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsEndToEndIT {
  private Path tmp;
  private Launcher accr;
  private String a;
  private String b;

  @BeforeAll
  void startNodes(@TempDir Path dir) throws Exception {
    tmp = dir;
    accr = new Launcher(tmp.resolve("run"), tmp);
    String init = accr.ok("tls", "init", "tls", "--node", "a", "--node", "b");
    assertTrue(init.contains("created CA") && init.contains("client client:"), init);
    // Both nodes' image roots are this test's directory: as if it were shared storage, a set
    // dumped by a is where b restores it from, and relative paths mean the same on both.
    // Port 0: each node binds a free port and says which.
    a = "a@" + boundAddress(accr.ok("node", "start", "--name", "a", "--listen", "127.0.0.1:0",
        "--tls", "tls", "--images-root", tmp.toString()));
    b = "b@" + boundAddress(accr.ok("node", "start", "--name", "b", "--topology", "cpu-2numa",
        "--listen", "127.0.0.1:0", "--tls", "tls", "--images-root", tmp.toString()));
    String ls = accr.ok("node", "ls", "--json");
    assertTrue(ls.contains("\"tcp\": \"" + a.substring(2) + "\"")
        && ls.contains("\"tcp\": \"" + b.substring(2) + "\""), ls);
  }

  /** The HOST:PORT that node start says its node bound. */
  static String boundAddress(String started) {
    Matcher m = Pattern.compile(", tcp (127\\.0\\.0\\.1:[1-9][0-9]*)\\)$").matcher(started.strip());
    assertTrue(m.find(), started);
    return m.group(1);
  }

  @AfterAll
  void stopNodes() throws Exception {
    accr.run("node", "stop", "--name", "a");
    accr.run("node", "stop", "--name", "b");
  }

  @Test
  void aProcessDumpedOnOneNodeByAddressFinishesOnTheOtherWithTheSameDigest() throws Exception {
    String ref = accr.ok("run", "--node", a, "--tls", "tls", "counter", "--mem-mib", "16",
        "--steps", "500", "--seed", "9", "--out", "reference.out").strip();
    String expected = accr.ok("wait", "--node", a, "--tls", "tls", "-t", ref).strip();
    assertTrue(expected.matches("digest: [0-9a-f]{64}"), expected);

    // 500 steps of 20 ms: a 10 s run leaves room for the dump client to start on a busy machine.
    String pid = accr.ok("run", "--node", a, "--tls", "tls", "--step-delay-ms", "20", "counter",
        "--mem-mib", "16", "--steps", "500", "--seed", "9", "--out", "moved.out").strip();
    String dump = accr.ok("dump", "--node", a, "--tls", "tls", "-t", pid, "-D", "images");
    assertTrue(dump.contains("dumped " + pid), dump);
    long steps = Files.readAllLines(tmp.resolve("moved.out")).size();
    assertTrue(steps > 0 && steps < 500, "dumped mid-run, after " + steps + " steps");

    // The client's TLS directory from the environment this time.
    Map<String, String> env = Map.of("ACCR_TLS_DIR", tmp.resolve("tls").toString());
    assertTrue(accr.ok(env, "restore", "--node", b, "-D", "images").contains("restored " + pid));
    assertEquals(expected, accr.ok(env, "wait", "--node", b, "-t", pid).strip());
    assertEquals(-1, Files.mismatch(tmp.resolve("reference.out"), tmp.resolve("moved.out")));
  }

  @Test
  void clientsWithoutTheRightMaterialOrForAnotherNodeAreRefused() throws Exception {
    Launcher.Result plain = accr.run("ps", "--node", a.substring(2));
    assertEquals(1, plain.exitCode(), plain.err());
    assertEquals("accr: node " + a.substring(2) + " uses TLS: give --tls DIR (or set "
        + "ACCR_TLS_DIR)", plain.err().strip());

    String wrongName = "b" + a.substring(1);
    Launcher.Result other = accr.run("ps", "--node", wrongName, "--tls", "tls");
    assertEquals(1, other.exitCode(), other.err());
    assertEquals("accr: node " + wrongName + ": its certificate names node 'a', not 'b'",
        other.err().strip());

    String log = Files.readString(tmp.resolve("run/a.log"));
    assertTrue(log.lines().anyMatch(l -> l.matches(
        ".*Z +[A-Z]+ +refused 127\\.0\\.0\\.1:\\d+: not a TLS client")), log);
  }

  @Test
  void aListenerOffLoopbackWithoutTlsIsAUsageError() throws Exception {
    String port = "0"; // refused before any port is bound
    Launcher.Result bare = accr.run("node", "start", "--name", "c", "--listen", "0.0.0.0:" + port);
    assertEquals(2, bare.exitCode(), bare.err());
    assertTrue(bare.err().startsWith("accr: --listen 0.0.0.0:" + port + " needs --tls DIR"),
        bare.err());
    Launcher.Result insecure = accr.run("node", "start", "--name", "c", "--listen",
        "0.0.0.0:" + port, "--insecure");
    assertEquals(2, insecure.exitCode(), insecure.err());
    assertTrue(insecure.err().startsWith("accr: --insecure is for loopback addresses only"),
        insecure.err());
    assertTrue(Files.notExists(tmp.resolve("run/c.sock")), "no node c");
  }
}
