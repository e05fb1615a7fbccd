package dev.accr.kernel;

import dev.accr.api.DeviceFile;
import dev.accr.api.MemoryView;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * A SHA-256 over all process state a program's result depends on: registers, the contents of
 * every mapping (a page never touched and a page of zeros hash alike), and each open file's
 * flags, position and contents up to the position, and what each device file's driver adds
 * (device memory, queues, events). Ids (pid, tids) and paths are left out, so
 * that a run and a restored run of the same program compare equal. Shared mappings count with
 * their contents as this process sees them; pipe, socket and memfd descriptors by kind, and
 * pending signals when there are any.
 */
public final class ProcessDigest {
  private ProcessDigest() {}

  public static String of(SimProcess process) {
    MessageDigest sha = sha256();
    ByteBuffer scratch = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    putLongs(sha, scratch, process.threadCount());
    for (SimThread thread : process.threads()) {
      putLongs(sha, scratch, thread.pc());
      for (int i = 0; i < SimThread.GPR_COUNT; i++) {
        putLongs(sha, scratch, thread.gpr(i));
      }
    }
    for (Vma vma : process.memory().vmas()) {
      putLongs(sha, scratch, vma.start(), vma.length(), vma.prot());
      vma.forEachTouchedPage((address, frame) -> {
        if (!isZero(frame)) {
          putLongs(sha, scratch, address);
          sha.update(frame.asByteBuffer());
        }
      });
    }
    for (Map.Entry<Integer, OpenFile> e : process.files().snapshot().entrySet()) {
      OpenFile file = e.getValue();
      putLongs(sha, scratch, e.getKey(), file.flags(), file.position());
      hashContents(sha, file);
    }
    for (Map.Entry<Integer, DeviceFile> e : process.files().devices().entrySet()) {
      putLongs(sha, scratch, e.getKey());
      e.getValue().digest(sha);
    }
    // Pipes, sockets and memfds count by kind only: the bytes in flight when a process exits
    // depend on how the others were scheduled; what it read is in its memory and registers.
    for (Map.Entry<Integer, FileDescription> e : process.files().descriptions().entrySet()) {
      int kind = switch (e.getValue()) {
        case PipeEnd end -> end.isReadEnd() ? 1 : 2;
        case SocketEnd end -> 3;
        case MemfdFile memfd -> 4;
        default -> 0;
      };
      if (kind != 0) {
        putLongs(sha, scratch, e.getKey(), kind);
      }
    }
    long pending = process.lineage().pendingSignals();
    if (pending != 0) {
      putLongs(sha, scratch, pending, process.lineage().caughtSignals());
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /** True when a page holds only zeros. */
  public static boolean isZero(MemorySegment page) {
    return MemorySegment.mismatch(page, 0, MemoryView.PAGE_SIZE,
        AddressSpace.zeroPage(), 0, MemoryView.PAGE_SIZE) == -1;
  }

  private static void hashContents(MessageDigest sha, OpenFile file) {
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    long at = 0;
    // A separate read-only channel: the process may have opened the file write-only.
    try (FileChannel channel = FileChannel.open(file.path(), StandardOpenOption.READ)) {
      while (at < file.position()) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), file.position() - at));
        int n = channel.read(buffer, at);
        if (n < 0) {
          break;
        }
        sha.update(buffer.flip());
        at += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("digest: reading " + file.path(), e);
    }
  }

  private static void putLongs(MessageDigest sha, ByteBuffer scratch, long... values) {
    scratch.clear();
    for (long v : values) {
      scratch.putLong(v);
    }
    sha.update(scratch.flip());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}
