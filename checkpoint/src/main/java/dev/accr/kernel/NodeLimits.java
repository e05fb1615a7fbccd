package dev.accr.kernel;

import dev.accr.api.AccrException;

/**
 * What a node lets its callers use: the bytes of bulk-I/O buffers all dumps and restores share
 * ({@link BufferBudget}), the memory its processes may map in all (0: the topology's memory)
 * and how many processes it runs at once.
 */
public record NodeLimits(long bufferBytes, long memoryBytes, int maxProcesses) {
  public static final long DEFAULT_BUFFER_BYTES = 256L << 20;
  public static final int DEFAULT_MAX_PROCESSES = 256;

  public NodeLimits {
    if (bufferBytes < 1 << 20) {
      throw AccrException.usage("buffer budget: %d bytes is less than 1 MiB", bufferBytes);
    }
    if (memoryBytes < 0) {
      throw AccrException.usage("memory limit: %d bytes is negative", memoryBytes);
    }
    if (maxProcesses < 1) {
      throw AccrException.usage("process limit: %d is less than 1", maxProcesses);
    }
  }

  /** 256 MiB of buffers, the topology's memory, 256 processes. */
  public static NodeLimits defaults() {
    return new NodeLimits(DEFAULT_BUFFER_BYTES, 0, DEFAULT_MAX_PROCESSES);
  }

  public NodeLimits withBufferBytes(long bytes) {
    return new NodeLimits(bytes, memoryBytes, maxProcesses);
  }

  public NodeLimits withMemoryBytes(long bytes) {
    return new NodeLimits(bufferBytes, bytes, maxProcesses);
  }

  public NodeLimits withMaxProcesses(int n) {
    return new NodeLimits(bufferBytes, memoryBytes, n);
  }
}
