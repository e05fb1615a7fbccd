package dev.accr.engine;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Where a lazy restore's host pages come from: the image files of a local set, or the node the
 * process is migrating from. Its pages come in units (a stored chunk, a batch a source node
 * sends), each a list of runs; loading a unit hands each run's contents to a sink.
 */
public interface PageSource extends AutoCloseable {
  /** A run of consecutive pages of a unit. */
  record Run(long vaddr, int pages) {}

  /** The units, in the order a background pusher loads them. */
  List<List<Run>> units();

  /**
   * Loads unit {@code unit}: checks it and gives the contents of each of its runs, in order,
   * to {@code sink}. Safe to call from several threads at once (a fault and the pusher).
   * Throws when the unit cannot be had (a damaged chunk, a broken link): the process cannot go
   * on.
   */
  void load(int unit, RunSink sink) throws IOException;

  /**
   * {@link #load(int, RunSink)}, told whether a first touch asks ({@code byFault}) or the
   * background pusher: a source on another node sends a fault's unit first, and reads ahead
   * for the pusher.
   */
  default void load(int unit, boolean byFault, RunSink sink) throws IOException {
    load(unit, sink);
  }

  /** A short description, for messages: "images in DIR", "node A". */
  String describe();

  /** Receives the contents of one run. */
  @FunctionalInterface
  interface RunSink {
    void accept(Run run, MemorySegment data, long offset);
  }

  /** Releases what the source holds (files, a connection); called once. */
  @Override
  void close();
}
