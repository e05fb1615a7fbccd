package dev.accr.api;

/** The registers of one simulated thread: a program counter and general registers. */
public interface ThreadView {
  /** Number of general registers every thread has. */
  int GPR_COUNT = 16;

  int tid();

  long pc();

  void setPc(long pc);

  long gpr(int index);

  void setGpr(int index, long value);
}
