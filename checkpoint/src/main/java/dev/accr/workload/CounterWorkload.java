package dev.accr.workload;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.FileView;
import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.api.Prot;
import dev.accr.api.ThreadView;
import dev.accr.api.Workload;
import dev.accr.api.WorkloadOption;
import dev.accr.api.WorkloadOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code counter}: each step rewrites pseudo-random pages of a heap mapping with pseudo-random
 * data, counts the visit in a small table, and appends a line to an output file.
 *
 * <p>State, all in the process: thread 0 holds the loop (r0 step, r1 steps, r2 random state,
 * r3 heap base, r4 heap pages, r5 pages per step, r6 running checksum); thread 1 holds the
 * output (r0 output fd, r1 lines written, r2 bytes written). The visit table is a second
 * mapping at {@link #TABLE_BASE}.
 */
public final class CounterWorkload implements Workload {
  static final long HEAP_BASE = 0x1000_0000L;
  static final long TABLE_BASE = 0x7f00_0000_0000L;
  static final int TABLE_SLOTS = 1024;
  private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

  @Override
  public String name() {
    return "counter";
  }

  @Override
  public String description() {
    return "rewrites random pages of its memory and logs each step to a file";
  }

  @Override
  public String usage() {
    return "[--mem-mib M] [--steps K] [--seed S] [--pages-per-step P] [--out FILE]";
  }

  @Override
  public List<WorkloadOption> options() {
    return List.of(
        new WorkloadOption("mem-mib", "MIB", "64", "size of the heap it rewrites"),
        new WorkloadOption("steps", "K", "1000", "steps before it exits"),
        new WorkloadOption("seed", "S", "1", "seed of the pages and data it picks"),
        new WorkloadOption("pages-per-step", "P", "16", "pages rewritten per step (1..4096)"),
        new WorkloadOption("out", "FILE", "counter-PID.out", "the file it logs each step to"));
  }

  @Override
  public void exec(ProcessView p, List<String> args) {
    WorkloadOptions o = WorkloadOptions.parse(name(), args, WorkloadOption.names(options()));
    long memMib = o.getLong("mem-mib", 64, 1, 1 << 20);
    long steps = o.getLong("steps", 1000, 0, Long.MAX_VALUE);
    long seed = o.getLong("seed", 1, Long.MIN_VALUE, Long.MAX_VALUE);
    long pagesPerStep = o.getLong("pages-per-step", 16, 1, 4096);
    String out = o.getString("out", "counter-" + p.pid() + ".out");

    long heapBytes = memMib << 20;
    p.memory().mapAnonymous(HEAP_BASE, heapBytes, Prot.RW, "[heap]");
    p.memory().mapAnonymous(TABLE_BASE, (long) TABLE_SLOTS * Long.BYTES, Prot.RW, "visits");
    int fd = p.files().open(out, FileView.O_WRITE | FileView.O_CREATE);

    ThreadView loop = p.thread(0);
    loop.setGpr(0, 0);
    loop.setGpr(1, steps);
    loop.setGpr(2, seed);
    loop.setGpr(3, HEAP_BASE);
    loop.setGpr(4, heapBytes / MemoryView.PAGE_SIZE);
    loop.setGpr(5, pagesPerStep);
    ThreadView writer = p.addThread();
    writer.setGpr(0, fd);
  }

  @Override
  public boolean step(ProcessView p) {
    ThreadView loop = p.thread(0);
    ThreadView writer = p.thread(1);
    long step = loop.gpr(0);
    if (step >= loop.gpr(1)) {
      return false;
    }
    long random = loop.gpr(2);
    long checksum = loop.gpr(6);
    long lastPage = 0;
    for (long k = 0; k < loop.gpr(5); k++) {
      random = SplitMix.next(random);
      lastPage = Long.remainderUnsigned(SplitMix.mix(random), loop.gpr(4));
      MemorySegment page = p.memory().pageForWrite(loop.gpr(3) + lastPage * MemoryView.PAGE_SIZE);
      long fill = SplitMix.mix(random ^ step);
      for (long off = 0; off < MemoryView.PAGE_SIZE; off += Long.BYTES) {
        fill = SplitMix.next(fill);
        page.set(LONG, off, SplitMix.mix(fill));
      }
      checksum = checksum * 31 + page.get(LONG, 0);
      long slot = TABLE_BASE + (lastPage % TABLE_SLOTS) * Long.BYTES;
      p.memory().writeLong(slot, p.memory().readLong(slot) + 1);
    }
    byte[] line = String.format("step %d page %d checksum %016x%n", step, lastPage, checksum)
        .getBytes(StandardCharsets.US_ASCII);
    p.files().write((int) writer.gpr(0), line);
    writer.setGpr(1, writer.gpr(1) + 1);
    writer.setGpr(2, writer.gpr(2) + line.length);
    writer.setPc(writer.pc() + 1);

    loop.setGpr(0, step + 1);
    loop.setGpr(2, random);
    loop.setGpr(6, checksum);
    loop.setPc(loop.pc() + 1);
    return true;
  }

  /**
   * Registers say where the loop is: every step advances the step count, both threads' pcs and
   * the lines written by one, and the bytes written by the file's growth; settings are within
   * what {@code exec} accepts and the heap they name is mapped.
   */
  @Override
  public void checkRestored(ProcessView p) {
    String core = "core-" + p.pid() + ".img";
    if (p.threadCount() != 2) {
      throw new CorruptImageException(core, "counter: threads: actual=" + p.threadCount()
          + " expected=2");
    }
    ThreadView loop = p.thread(0);
    ThreadView writer = p.thread(1);
    long step = loop.gpr(0);
    long heapPages = loop.gpr(4);
    boolean ok = loop.gpr(1) >= 0 && step >= 0 && step <= loop.gpr(1)
        && loop.gpr(3) == HEAP_BASE && heapPages >= 1 && heapPages <= (1L << 20) * 256
        && loop.gpr(5) >= 1 && loop.gpr(5) <= 4096
        && loop.pc() == step && writer.pc() == step && writer.gpr(1) == step
        && writer.gpr(2) >= 0 && writer.gpr(0) >= 0 && writer.gpr(0) <= Integer.MAX_VALUE;
    if (!ok) {
      throw new CorruptImageException(core, String.format("counter: registers out of range"
          + " (step %d of %d, pc %d and %d, heap pages %d, pages per step %d)", step,
          loop.gpr(1), loop.pc(), writer.pc(), heapPages, loop.gpr(5)));
    }
    p.memory().pageForRead(HEAP_BASE + (heapPages - 1) * MemoryView.PAGE_SIZE);
    int fd = (int) writer.gpr(0);
    long position = p.files().position(fd); // a descriptor the image does not have: core
    try {
      p.files().write(fd, new byte[0]); // as write(2) of no bytes: is it open for writing?
    } catch (AccrException e) {
      throw new CorruptImageException("files.img", "counter: output descriptor " + fd + ": "
          + e.getMessage());
    }
    if (position != writer.gpr(2)) {
      throw new CorruptImageException("files.img", String.format("counter: output position %d,"
          + " but %d bytes were written", position, writer.gpr(2)));
    }
  }
}
