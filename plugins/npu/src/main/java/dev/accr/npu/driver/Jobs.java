package dev.accr.npu.driver;

import dev.accr.api.MemoryView;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.LockSupport;

/**
 * The jobs an npu runs, and how. A program writes a job descriptor (8 words) into its host
 * memory and submits its address; the driver copies it at submission. Words:
 *
 * <pre>
 * FILL     deviceVa, bytes, seed                 floats of noise in [-0.5, 0.5)
 * COPY_IN  hostVa, deviceVa, bytes               host memory (page aligned) to the device
 * COPY_OUT deviceVa, hostVa, bytes               device to host memory (page aligned)
 * INFER    modelVa, rows, inVa, outVa, batch, micros
 * </pre>
 *
 * An INFER job runs a batch of requests (each {@link #DIM} floats at inVa) through a model at
 * modelVa: {@code h = tanh(W1 x + s)}; an embedding row chosen by {@code h} is added;
 * {@code out = sum(W2 (h + e))}; the state vector {@code s} drifts towards {@code h}. Model
 * layout: W1 and W2 ({@code DIM x DIM} floats each), s ({@code DIM} floats), then the
 * embedding table ({@code rows x DIM} floats). One request is one unit of work; {@code micros}
 * slows each unit down, as a busier device would be.
 */
public final class Jobs {
  public static final long FILL = 1;
  public static final long COPY_IN = 2;
  public static final long COPY_OUT = 3;
  public static final long INFER = 4;
  /** Words of a descriptor. */
  public static final int WORDS = 8;
  /** Floats per request vector. */
  public static final int DIM = 64;
  /** Bytes of a model before its embedding table. */
  public static final long MODEL_HEADER_BYTES = (2L * DIM * DIM + DIM) * 4;

  private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
  private static final int PAGE = MemoryView.PAGE_SIZE;

  private Jobs() {}

  /** A submitted job: its descriptor words, copied at submission. */
  record Job(long[] words) {
    long op() {
      return words[0];
    }

    long arg(int i) {
      return words[1 + i];
    }
  }

  static Job read(MemoryView host, long descriptorVa) {
    long[] w = new long[WORDS];
    for (int i = 0; i < WORDS; i++) {
      w[i] = host.readLong(descriptorVa + 8L * i);
    }
    if (w[0] < FILL || w[0] > INFER) {
      throw new NpuFault("invalid job type " + w[0] + " at 0x" + Long.toHexString(descriptorVa));
    }
    return new Job(w);
  }

  /** Runs a job to its end. */
  static void run(Job job, DeviceMemory memory, MemoryView host) {
    switch ((int) job.op()) {
      case (int) FILL -> fill(memory.at(job.arg(0), job.arg(1)), job.arg(2));
      case (int) COPY_IN -> copy(host, job.arg(0), memory, job.arg(1), job.arg(2), true);
      case (int) COPY_OUT -> copy(host, job.arg(1), memory, job.arg(0), job.arg(2), false);
      default -> infer(memory, job.arg(0), (int) job.arg(1), job.arg(2), job.arg(3),
          (int) job.arg(4), job.arg(5));
    }
  }

  private static void fill(MemorySegment out, long seed) {
    for (long i = 0; i < out.byteSize() / 4; i++) {
      out.setAtIndex(F, i, noise(seed, i) * 0.5f);
    }
  }

  private static void copy(MemoryView host, long hostVa, DeviceMemory memory, long deviceVa,
      long bytes, boolean in) {
    if (hostVa % PAGE != 0) {
      throw new NpuFault(String.format("host address 0x%x is not page aligned", hostVa));
    }
    MemorySegment device = memory.at(deviceVa, bytes);
    for (long at = 0; at < bytes; at += PAGE) {
      int n = (int) Math.min(PAGE, bytes - at);
      if (in) {
        MemorySegment.copy(host.pageForRead(hostVa + at), 0, device, at, n);
      } else {
        MemorySegment.copy(device, at, host.pageForWrite(hostVa + at), 0, n);
      }
    }
  }

  private static void infer(DeviceMemory memory, long modelVa, int rows, long inVa, long outVa,
      int batch, long micros) {
    if (rows <= 0 || batch <= 0) {
      throw new NpuFault("infer: rows " + rows + ", batch " + batch);
    }
    MemorySegment w1 = memory.at(modelVa, DIM * DIM * 4L);
    MemorySegment w2 = memory.at(modelVa + DIM * DIM * 4L, DIM * DIM * 4L);
    MemorySegment s = memory.at(modelVa + 2L * DIM * DIM * 4, DIM * 4L);
    MemorySegment table = memory.at(modelVa + MODEL_HEADER_BYTES, (long) rows * DIM * 4);
    MemorySegment in = memory.at(inVa, (long) batch * DIM * 4);
    MemorySegment out = memory.at(outVa, batch * 4L);
    float[] h = new float[DIM];
    for (int r = 0; r < batch; r++) {
      for (int i = 0; i < DIM; i++) {
        float acc = s.getAtIndex(F, i);
        for (int j = 0; j < DIM; j++) {
          acc += w1.getAtIndex(F, (long) i * DIM + j) * in.getAtIndex(F, (long) r * DIM + j);
        }
        h[i] = (float) Math.tanh(acc);
      }
      long row = Math.floorMod(Float.floatToRawIntBits(h[0]) * 31L + r, rows);
      float o = 0;
      for (int i = 0; i < DIM; i++) {
        for (int j = 0; j < DIM; j++) {
          o += w2.getAtIndex(F, (long) i * DIM + j) * (h[j] + table.getAtIndex(F, row * DIM + j));
        }
      }
      out.setAtIndex(F, r, o);
      for (int i = 0; i < DIM; i++) {
        s.setAtIndex(F, i, 0.98f * s.getAtIndex(F, i) + 0.02f * h[i]);
      }
      if (micros > 0) {
        LockSupport.parkNanos(micros * 1000);
      }
    }
  }

  /** A deterministic float in [-1, 1) from a seed and an index (SplitMix64). */
  public static float noise(long seed, long index) {
    long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    return (z >>> 40) / (float) (1L << 23) - 1f;
  }
}
