package dev.accr.engine;

import dev.accr.api.FileView;
import dev.accr.api.ProcessView;
import dev.accr.api.Signals;
import dev.accr.api.ThreadView;
import dev.accr.api.Workload;
import dev.accr.workload.SplitMix;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A two-process program for tree tests: the root forks a child connected by a pipe, sends it
 * {@code args[0]} records; on SIGUSR1 it closes its end (until then the child, done reading,
 * blocks on the empty pipe), on SIGUSR2 it reaps the child (a zombie meanwhile). Both count into their own slot of a MAP_SHARED page; the child
 * folds the records into private memory. All state is in registers and memory.
 */
public final class ChainTestWorkload implements Workload {
  static final long PRIVATE = 0x10000;
  static final long SHARED = 0x20000;
  // Registers: role (0 root, 1 child), records sent/read, read fd, write fd, phase, idle steps.
  private static final int ROLE = 0;
  private static final int COUNT = 1;
  private static final int READ_FD = 2;
  private static final int WRITE_FD = 3;
  private static final int PHASE = 4;
  private static final int RECORDS = 6;
  public static final int PHASE_REG = PHASE;

  @Override
  public String name() {
    return "chain-test";
  }

  @Override
  public String description() {
    return "a root and a child connected by a pipe";
  }

  @Override
  public String usage() {
    return "RECORDS";
  }

  @Override
  public void exec(ProcessView p, List<String> args) {
    p.memory().mapAnonymous(PRIVATE, 4096, 3, "acc");
    p.memory().mapShared(SHARED, 4096, 3, "counters");
    int[] fds = p.files().pipe();
    ThreadView t = p.thread(0);
    t.setGpr(READ_FD, fds[0]);
    t.setGpr(WRITE_FD, fds[1]);
    t.setGpr(RECORDS, Long.parseLong(args.get(0)));
  }

  @Override
  public boolean step(ProcessView p) {
    ThreadView t = p.thread(0);
    return t.gpr(ROLE) == 0 ? root(p, t) : child(p, t);
  }

  private static boolean root(ProcessView p, ThreadView t) {
    switch ((int) t.gpr(PHASE)) {
      case 0 -> {
        t.setGpr(ROLE, 1);
        p.fork();
        t.setGpr(ROLE, 0);
        p.files().close((int) t.gpr(READ_FD));
        t.setGpr(PHASE, 1);
      }
      case 1 -> { // two records a step: the child, reading one, falls behind
        for (int i = 0; i < 2 && t.gpr(COUNT) < t.gpr(RECORDS); i++) {
          byte[] rec = ByteBuffer.allocate(8).putLong(SplitMix.mix(t.gpr(COUNT))).array();
          if (p.files().writeSome((int) t.gpr(WRITE_FD), rec, 0, 8) == FileView.WOULD_BLOCK) {
            return true;
          }
          t.setGpr(COUNT, t.gpr(COUNT) + 1);
          p.memory().writeLong(SHARED, p.memory().readLong(SHARED) + 1);
        }
        if (t.gpr(COUNT) == t.gpr(RECORDS)) {
          t.setGpr(PHASE, 2);
        }
      }
      case 2 -> { // the write end open: the child drains the pipe and blocks on it
        if (p.takeSignal(Signals.SIGUSR1)) {
          p.files().close((int) t.gpr(WRITE_FD));
          t.setGpr(PHASE, 3);
        }
      }
      case 3 -> { // the child reads the end of the pipe and exits: a zombie until reaped
        if (p.takeSignal(Signals.SIGUSR2)) {
          t.setGpr(PHASE, 4);
        }
      }
      default -> {
        int status = p.waitChild(-1);
        if (status == FileView.WOULD_BLOCK) {
          return true;
        }
        p.memory().writeLong(PRIVATE + 8, status);
        return false;
      }
    }
    return true;
  }

  private static boolean child(ProcessView p, ThreadView t) {
    if (t.gpr(PHASE) == 0) {
      p.files().close((int) t.gpr(WRITE_FD));
      t.setGpr(PHASE, 1);
      return true;
    }
    byte[] rec = new byte[8];
    int n = p.files().read((int) t.gpr(READ_FD), rec, 0, 8);
    if (n == FileView.WOULD_BLOCK) {
      return true;
    }
    if (n == 0) {
      p.setExitStatus((int) (p.memory().readLong(PRIVATE) & 0x7f));
      return false;
    }
    long v = ByteBuffer.wrap(rec).getLong();
    p.memory().writeLong(PRIVATE, p.memory().readLong(PRIVATE) * 31 + v);
    p.memory().writeLong(SHARED + 8, p.memory().readLong(SHARED + 8) + v);
    t.setGpr(COUNT, t.gpr(COUNT) + 1);
    return true;
  }
}
