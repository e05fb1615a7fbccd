package dev.accr.engine;

/** Receives progress of a long operation; called from worker threads. */
@FunctionalInterface
public interface ProgressListener {
  ProgressListener NONE = (phase, done, total) -> {};

  void progress(String phase, long done, long total);
}
