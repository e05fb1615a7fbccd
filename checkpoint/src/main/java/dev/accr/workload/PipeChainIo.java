package dev.accr.workload;

import static dev.accr.workload.PipeChainMemory.IN_RING;
import static dev.accr.workload.PipeChainMemory.OUT_RING;
import static dev.accr.workload.PipeChainMemory.RECORD_BYTES;
import static dev.accr.workload.PipeChainMemory.RING_BYTES;
import static dev.accr.workload.PipeChainMemory.R_BYTES_IN;
import static dev.accr.workload.PipeChainMemory.R_BYTES_OUT;
import static dev.accr.workload.PipeChainMemory.R_CONSUMED;
import static dev.accr.workload.PipeChainMemory.R_IN_FD;
import static dev.accr.workload.PipeChainMemory.R_OUT_FD;
import static dev.accr.workload.PipeChainMemory.R_PRODUCED;

import dev.accr.api.FileView;
import dev.accr.api.ProcessView;
import dev.accr.api.ThreadView;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Moving {@code pipe-chain} records between a process's rings and its pipes. Records are 32
 * bytes: sequence number, value, checksum, hops. Every count lives in registers and every byte
 * in the rings, so a step can stop anywhere (a pipe empty or full) and the next one, after a
 * checkpoint or not, goes on from there.
 */
final class PipeChainIo {
  /** What {@link #fill} found. */
  enum Fill {
    READ,
    END_OF_FILE,
    WOULD_BLOCK,
    RING_FULL
  }

  /** One record. */
  record Rec(long seq, long value, long checksum, long hops) {
    byte[] bytes() {
      return ByteBuffer.allocate(RECORD_BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(seq)
          .putLong(value).putLong(checksum).putLong(hops).array();
    }

    static Rec of(byte[] b) {
      ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
      return new Rec(in.getLong(), in.getLong(), in.getLong(), in.getLong());
    }
  }

  private PipeChainIo() {}

  /** Writes what the output ring holds; false if the pipe is full (the step should end). */
  static boolean flush(ProcessView p) {
    ThreadView t = p.thread(0);
    while (t.gpr(R_PRODUCED) > t.gpr(R_BYTES_OUT)) {
      long out = t.gpr(R_BYTES_OUT);
      int n = (int) Math.min(t.gpr(R_PRODUCED) - out, RING_BYTES - out % RING_BYTES);
      byte[] chunk = new byte[n];
      PipeChainMemory.getRing(p.memory(), OUT_RING, out, chunk, 0, n);
      int written = p.files().writeSome((int) t.gpr(R_OUT_FD), chunk, 0, n);
      if (written == FileView.WOULD_BLOCK) {
        return false;
      }
      t.setGpr(R_BYTES_OUT, out + written);
    }
    return true;
  }

  /** Reads what fits into the input ring. */
  static Fill fill(ProcessView p) {
    ThreadView t = p.thread(0);
    long in = t.gpr(R_BYTES_IN);
    int room = (int) (RING_BYTES - (in - t.gpr(R_CONSUMED)));
    if (room == 0) {
      return Fill.RING_FULL;
    }
    int n = (int) Math.min(room, RING_BYTES - in % RING_BYTES);
    byte[] chunk = new byte[n];
    int read = p.files().read((int) t.gpr(R_IN_FD), chunk, 0, n);
    if (read == FileView.WOULD_BLOCK) {
      return Fill.WOULD_BLOCK;
    }
    if (read == 0) {
      return Fill.END_OF_FILE;
    }
    PipeChainMemory.putRing(p.memory(), IN_RING, in, chunk, 0, read);
    t.setGpr(R_BYTES_IN, in + read);
    return Fill.READ;
  }

  /** Whether a whole record waits in the input ring. */
  static boolean recordIn(ThreadView t) {
    return t.gpr(R_BYTES_IN) - t.gpr(R_CONSUMED) >= RECORD_BYTES;
  }

  /** Whether the output ring has room for a record. */
  static boolean roomOut(ThreadView t) {
    return RING_BYTES - (t.gpr(R_PRODUCED) - t.gpr(R_BYTES_OUT)) >= RECORD_BYTES;
  }

  static Rec take(ProcessView p) {
    ThreadView t = p.thread(0);
    byte[] b = new byte[RECORD_BYTES];
    PipeChainMemory.getRing(p.memory(), IN_RING, t.gpr(R_CONSUMED), b, 0, RECORD_BYTES);
    t.setGpr(R_CONSUMED, t.gpr(R_CONSUMED) + RECORD_BYTES);
    return Rec.of(b);
  }

  static void put(ProcessView p, Rec r) {
    ThreadView t = p.thread(0);
    PipeChainMemory.putRing(p.memory(), OUT_RING, t.gpr(R_PRODUCED), r.bytes(), 0,
        RECORD_BYTES);
    t.setGpr(R_PRODUCED, t.gpr(R_PRODUCED) + RECORD_BYTES);
  }
}
