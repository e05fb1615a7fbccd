package dev.accr.cli;

import dev.accr.api.Sizes;
import dev.accr.plugin.DevicePairs;
import dev.accr.proto.DevicePairInfo;
import dev.accr.proto.LazyDeviceInfo;
import dev.accr.proto.LazyPagesInfo;
import dev.accr.proto.MigrateReply;
import dev.accr.proto.MigrationRound;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The text {@code accr migrate} prints about a migration that succeeded. */
final class MigrationReport {
  /** {@code MigrateReply.rounds_end} of pre-copy rounds that stopped shrinking. */
  static final String NOT_CONVERGING = "not-converging";

  private MigrationReport() {}

  /** Prints the migration of {@code pid} from node {@code from} to {@code to}. */
  static void print(MigrateReply reply, int pid, String from, String to, PrintWriter out) {
    out.printf("migrated %d from %s to %s: pid %d there%n", pid, from, to, reply.getPid());
    for (DevicePairInfo d : reply.getDevicesList()) {
      out.println("  " + DevicePairs.describe(DevicePairs.fromInfo(d)));
    }
    int i = 0;
    for (MigrationRound r : reply.getRoundsList()) {
      out.printf(Locale.ROOT, "  %-8s %d: %s in %.1f ms%n", r.getKind(), i++,
          Sizes.bytes(r.getBytes()), r.getTimeUs() / 1000.0);
    }
    if (reply.getRoundsEnd().equals(NOT_CONVERGING)) {
      out.println(notConverging(reply.getRoundsList()));
    }
    if (reply.getStagedRounds() > 0) {
      out.printf("  %s loaded on %s ahead of the stop%n", reply.getStagedRounds() == 1
          ? "the pre-copy round was" : reply.getStagedRounds() + " pre-copy rounds were", to);
    }
    if (reply.hasPostCopy()) {
      LazyPagesInfo p = reply.getPostCopy();
      out.printf(Locale.ROOT, "  post-copy: host pages %d on demand, %d pushed",
          p.getPagesFaulted(), p.getPagesPushed());
      for (LazyDeviceInfo d : p.getDevicesList()) {
        out.printf(Locale.ROOT, "; %s %d on demand, %d pushed", d.getName(), d.getFaulted(),
            d.getPushed());
      }
      out.printf(Locale.ROOT, "; %s in %.1f ms after the process ran%n",
          Sizes.bytes(reply.getPostCopyBytes()), reply.getPostCopyUs() / 1000.0);
    }
    out.printf(Locale.ROOT, "  downtime %.1f ms (restore on %s %.1f ms), total %.1f ms,"
        + " %s sent%n", reply.getDowntimeUs() / 1000.0, to, reply.getRestoreUs() / 1000.0,
        reply.getTotalUs() / 1000.0, Sizes.bytes(reply.getBytesSent()));
  }

  /**
   * The line saying that the rounds did not converge: the last pre-copy round against the one
   * before it, and what would stop the process for less time.
   */
  private static String notConverging(List<MigrationRound> rounds) {
    List<Integer> pre = new ArrayList<>();
    for (int i = 0; i < rounds.size(); i++) {
      if (rounds.get(i).getKind().equals("pre-copy")) {
        pre.add(i);
      }
    }
    String which = "";
    if (pre.size() >= 2) {
      int last = pre.getLast();
      int before = pre.get(pre.size() - 2);
      which = String.format(" (round %d sent %s after %s in round %d)", last,
          Sizes.bytes(rounds.get(last).getBytes()), Sizes.bytes(rounds.get(before).getBytes()),
          before);
    }
    String stop = rounds.stream().filter(r -> r.getKind().equals("final")).findFirst()
        .map(r -> ", and the stop sent " + Sizes.bytes(r.getBytes())).orElse("");
    return "  the pre-copy rounds did not converge" + which + ": the process rewrites its"
        + " memory as fast as they send it" + stop + "; --lazy (post-copy) would stop it for"
        + " less time";
  }
}
