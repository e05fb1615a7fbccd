package dev.accr.kernel;

import dev.accr.api.ThreadView;

/** The register file of one simulated thread. */
public final class SimThread implements ThreadView {
  private final int tid;
  private long pc;
  private final long[] gpr = new long[GPR_COUNT];

  public SimThread(int tid) {
    this.tid = tid;
  }

  @Override
  public int tid() {
    return tid;
  }

  @Override
  public long pc() {
    return pc;
  }

  @Override
  public void setPc(long pc) {
    this.pc = pc;
  }

  @Override
  public long gpr(int index) {
    return gpr[index];
  }

  @Override
  public void setGpr(int index, long value) {
    gpr[index] = value;
  }
}
