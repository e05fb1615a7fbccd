package dev.accr.kfd.driver;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A queue as the device saves it when preempted: the memory queue descriptor (MQD), what the
 * device reloads the queue from, and the control stack, where a preempted dispatch left its
 * progress. CHECKPOINT writes both as raw bytes beside the decoded fields of the queue entry;
 * a restore decodes them back and refuses an image whose two views disagree.
 *
 * <p>MQD, 64 bytes little-endian: queue id, type, priority, ring address, ring slots, read
 * index, write index, active (0 once preempted), 8 bytes each. Control stack, 16 bytes: the
 * ring index of the packet in progress (-1 if none), the next workgroup to run (int32), and 4
 * reserved zero bytes.
 */
public record SavedQueue(long queueId, long type, long priority, long ringVa, long slots,
    long readIndex, long writeIndex, long active, long preemptedPacket, int nextWorkgroup) {
  public static final int MQD_BYTES = 64;
  public static final int CTL_STACK_BYTES = 16;

  static SavedQueue of(HwQueue q) {
    return new SavedQueue(q.queueId(), q.type().getNumber(), q.priority(), q.ringVa(),
        q.slots(), q.readIndex(), q.writeIndex(), q.paused() ? 0 : 1, q.preemptedPacket(),
        q.preemptedNextUnit());
  }

  /** Decodes the raw bytes; null if either has the wrong length or a reserved byte is set. */
  public static SavedQueue parse(ByteString mqd, ByteString ctlStack) {
    if (mqd.size() != MQD_BYTES || ctlStack.size() != CTL_STACK_BYTES) {
      return null;
    }
    ByteBuffer m = mqd.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer c = ctlStack.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    SavedQueue q = new SavedQueue(m.getLong(), m.getLong(), m.getLong(), m.getLong(),
        m.getLong(), m.getLong(), m.getLong(), m.getLong(), c.getLong(), c.getInt());
    return c.getInt() == 0 ? q : null;
  }

  public ByteString mqd() {
    ByteBuffer b = ByteBuffer.allocate(MQD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(queueId).putLong(type).putLong(priority).putLong(ringVa).putLong(slots)
        .putLong(readIndex).putLong(writeIndex).putLong(active);
    return ByteString.copyFrom(b.flip());
  }

  public ByteString ctlStack() {
    ByteBuffer b = ByteBuffer.allocate(CTL_STACK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(preemptedPacket).putInt(nextWorkgroup).putInt(0);
    return ByteString.copyFrom(b.flip());
  }
}
