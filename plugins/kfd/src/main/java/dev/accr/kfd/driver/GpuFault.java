package dev.accr.kfd.driver;

/** A GPU memory fault: the dispatch that caused it stops and its queue is in error. */
public final class GpuFault extends RuntimeException {
  public GpuFault(String message) {
    super(message);
  }
}
