package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.engine.JsonOutput;
import dev.accr.proto.MigrateReply;
import dev.accr.proto.MigrationRound;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** What {@code accr migrate} prints of a migration's rounds. */
class MigrationReportTest {
  private static MigrateReply reply(String end, long... preCopyBytes) {
    MigrateReply.Builder b = MigrateReply.newBuilder().setPid(7).setTarget("b")
        .setRoundsEnd(end).setDowntimeUs(1000).setTotalUs(5000);
    for (long bytes : preCopyBytes) {
      b.addRounds(MigrationRound.newBuilder().setKind("pre-copy").setBytes(bytes));
    }
    return b.addRounds(MigrationRound.newBuilder().setKind("final").setBytes(3L << 30)).build();
  }

  private static String print(MigrateReply r) {
    StringWriter s = new StringWriter();
    try (PrintWriter out = new PrintWriter(s)) {
      MigrationReport.print(r, 1000, "a", "b", out);
    }
    return s.toString();
  }

  @Test
  void roundsThatDidNotConvergeAreSaidToWithTheWayOut() {
    String text = print(reply("not-converging", 3L << 30, 3L << 30));
    assertTrue(text.contains("the pre-copy rounds did not converge (round 1 sent 3.0 GiB after"
        + " 3.0 GiB in round 0)"), text);
    assertTrue(text.contains("as fast as they send it, and the stop sent 3.0 GiB; --lazy"
        + " (post-copy) would stop it for less time"), text);
    assertTrue(JsonOutput.printWithZeros(reply("not-converging", 1, 1))
        .contains("\"roundsEnd\": \"not-converging\""));
  }

  @Test
  void roundsThatConvergedOrRanOutAreNotFlagged() {
    assertFalse(print(reply("converged", 3L << 30, 1L << 20)).contains("converge"));
    assertFalse(print(reply("max-rounds", 3L << 30, 1L << 30)).contains("converge"));
    assertFalse(print(reply("")).contains("converge"));
  }
}
