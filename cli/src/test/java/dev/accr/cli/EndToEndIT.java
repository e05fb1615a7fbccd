package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start -> checkpoint -> restore -> verify through {@code ./accr} and two real node daemons.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndToEndIT {
  private static final String STEPS = "400";

  private Path tmp;
  private Launcher accr;
  private String expectedDigest;

  @BeforeAll
  void startNodes(@TempDir Path dir) throws Exception {
    tmp = dir;
    accr = new Launcher(tmp.resolve("run"), tmp);
    accr.ok("node", "start", "--name", "a");
    accr.ok("node", "start", "--name", "b", "--topology", "cpu-2numa");
    String pid = accr.ok("run", "--node", "a", "counter", "--mem-mib", "256", "--steps", STEPS,
        "--seed", "5", "--out", "reference.out").strip();
    expectedDigest = accr.ok("wait", "--node", "a", "-t", pid).strip();
    assertTrue(expectedDigest.matches("digest: [0-9a-f]{64}"), expectedDigest);
  }

  @AfterAll
  void stopNodes() throws Exception {
    accr.run("node", "stop", "--name", "a");
    accr.run("node", "stop", "--name", "b");
  }

  // 400 steps of 20 ms: an 8 s run leaves room for a dump client to start on a busy machine.
  private String startSlowCounter(String out) throws Exception {
    return accr.ok("run", "--node", "a", "--step-delay-ms", "20", "counter", "--mem-mib", "256",
        "--steps", STEPS, "--seed", "5", "--out", out).strip();
  }

  @Test
  void dumpWhileRunningRestoreOnOtherNodeAndFinishWithTheSameDigest() throws Exception {
    String pid = startSlowCounter("moved.out");
    Thread.sleep(400);
    String dump = accr.ok("dump", "--node", "a", "-t", pid, "-D", "images", "--compress", "zstd");
    assertTrue(dump.contains("dumped " + pid), dump);
    long stepsAtDump = Files.readAllLines(tmp.resolve("moved.out")).size();
    assertTrue(stepsAtDump > 0 && stepsAtDump < Integer.parseInt(STEPS),
        "dumped mid-run, after " + stepsAtDump + " steps");
    assertEquals(5, accr.run("wait", "--node", "a", "-t", pid).exitCode(),
        "the dumped process is gone from node a");

    assertTrue(accr.ok("check", "images").contains("OK"));
    assertTrue(accr.ok("restore", "--node", "b", "-D", "images").contains("restored " + pid));
    assertTrue(accr.ok("ps", "--node", "b").contains(pid));
    assertEquals(expectedDigest, accr.ok("wait", "--node", "b", "-t", pid).strip());
    assertEquals(-1, Files.mismatch(tmp.resolve("reference.out"), tmp.resolve("moved.out")));
  }

  @Test
  void leaveRunningKeepsTheProcessAndTheImageRestoresElsewhere() throws Exception {
    String pid = startSlowCounter("kept.out");
    Thread.sleep(200);
    accr.ok("dump", "--node", "a", "-t", pid, "-D", "kept-images", "-R");
    // The copy runs on node b while the original still runs on node a: from the dumped offset on,
    // both write the same lines at the same places of one output file.
    accr.ok("restore", "--node", "b", "-D", "kept-images");
    assertEquals(expectedDigest, accr.ok("wait", "--node", "a", "-t", pid).strip());
    assertEquals(expectedDigest, accr.ok("wait", "--node", "b", "-t", pid).strip());
  }

  @Test
  void failedDumpLeavesTheProcessRunningAndNoImages() throws Exception {
    String pid = startSlowCounter("survivor.out");
    Files.writeString(tmp.resolve("not-a-dir"), "x");
    Launcher.Result r = accr.run("dump", "--node", "a", "-t", pid, "-D", "not-a-dir/images");
    assertEquals(1, r.exitCode(), r.err());
    assertEquals(1, r.err().strip().lines().count(), "one-line error: " + r.err());
    assertTrue(r.err().contains("not-a-dir"), r.err());

    Files.createDirectories(tmp.resolve("full"));
    Files.writeString(tmp.resolve("full/keep.txt"), "earlier data");
    r = accr.run("dump", "--node", "a", "-t", pid, "-D", "full");
    assertEquals(1, r.exitCode(), r.err());
    assertEquals("earlier data", Files.readString(tmp.resolve("full/keep.txt")));

    assertTrue(accr.ok("ps", "--node", "a").contains(pid + " "));
    assertEquals(expectedDigest, accr.ok("wait", "--node", "a", "-t", pid).strip());
    assertEquals(-1, Files.mismatch(tmp.resolve("reference.out"), tmp.resolve("survivor.out")));
  }

  @Test
  void restoreOntoATakenPidFailsAndLeavesNothing() throws Exception {
    String pid = startSlowCounter("twice.out");
    Thread.sleep(100);
    accr.ok("dump", "--node", "a", "-t", pid, "-D", "twice", "-R");
    Launcher.Result r = accr.run("restore", "--node", "a", "-D", "twice");
    assertEquals(1, r.exitCode(), r.err());
    assertTrue(r.err().contains("pid " + pid + " is already taken"), r.err());
    assertEquals(expectedDigest, accr.ok("wait", "--node", "a", "-t", pid).strip());
  }

  @Test
  void errorsHaveDocumentedExitCodesAndOneLine() throws Exception {
    assertExit(5, "wait", "--node", "a", "-t", "99999");
    assertExit(5, "ps", "--node", "nosuchnode");
    assertExit(2, "run", "--node", "a", "nosuchworkload");
    assertExit(2, "run", "--node", "a", "counter", "--steps", "many");
    assertExit(2, "dump", "--node", "a");
    assertExit(3, "show", "no-such-file.img");
    Files.writeString(tmp.resolve("junk.img"), "this is not an image");
    assertExit(3, "show", "junk.img");
    assertExit(3, "check", tmp.toString());
    Launcher.Result r = accr.run("show", "junk.img", "--stacktrace");
    assertTrue(r.err().contains("\tat "), "--stacktrace prints one: " + r.err());
  }

  private void assertExit(int code, String... args) throws Exception {
    Launcher.Result r = accr.run(args);
    assertEquals(code, r.exitCode(), String.join(" ", args) + ": " + r.err());
    assertFalse(r.err().contains("\tat "), "no stack trace without --stacktrace: " + r.err());
    assertTrue(r.err().startsWith("accr: "), r.err());
  }
}
