package dev.accr.image;

/**
 * Receives progress of a long operation (pages or bytes done of a total); called from worker
 * threads. The one progress callback of dumps, restores, plugins and node clients.
 */
@FunctionalInterface
public interface ProgressListener {
  ProgressListener NONE = (phase, done, total) -> {};

  void progress(String phase, long done, long total);
}
