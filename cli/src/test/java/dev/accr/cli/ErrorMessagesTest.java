package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Errors are one line that names the bad value and says what to do. */
class ErrorMessagesTest {
  private static CliRun fails(int code, String... args) {
    CliRun r = accr(args);
    assertEquals(code, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("accr: "), r.err());
    return r;
  }

  @Test
  void aBadHeapSizeIsNamedBeforeAnyJvmStarts() {
    for (String heap : new String[] {"10q", "1", "lots", "99999999999999999999g"}) {
      CliRun r = fails(2, "node", "start", "--name", "heapless", "--heap", heap);
      assertTrue(r.err().contains("--heap '" + heap + "'") && r.err().contains("e.g. 512m"),
          r.err());
    }
  }

  @Test
  void aNodeThatIsNotRunningSaysHowToStartOne() {
    CliRun r = fails(5, "ps", "--node", "zz-not-started");
    assertTrue(r.err().contains("no node 'zz-not-started' is running")
        && r.err().contains("start one with 'accr node start --name zz-not-started'"), r.err());
  }

  @Test
  void aTopologyFileTypoNamesFileLineAndColumn(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("t.json");
    Files.writeString(file, "{\n  \"name\": \"t\",\n  \"cpus\": [{ \"node\": 0,, }]\n}\n");
    CliRun r = fails(2, "topology", "show", file.toString());
    assertTrue(r.err().startsWith("accr: topology " + file + ", line 3, column "), r.err());
    assertTrue(!r.err().contains("Exception") && !r.err().contains("gson"), r.err());
  }

  @Test
  void postCopyRefusesOptionsOfPreCopyRounds() {
    for (String[] rounds : new String[][] {{"--max-rounds", "3"}, {"--pre-copy-rounds", "0"},
        {"--pre-copy-rounds", "2"}, {"--small-round-mib", "1"}}) {
      CliRun r = fails(2, "migrate", "--node", "zz-not-started", "-t", "1", "--to", "b",
          "--lazy", rounds[0], rounds[1]);
      assertTrue(r.err().contains("--lazy sends no pre-copy rounds: drop " + rounds[0]),
          r.err());
    }
  }

  @Test
  void anUnknownWorkloadInHelpListsTheInstalledOnes() {
    CliRun r = fails(2, "run", "nosuch", "--help");
    assertTrue(r.err().contains("installed: ") && r.err().contains("counter"), r.err());
  }
}
