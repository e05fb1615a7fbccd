package dev.accr.node;

import dev.accr.api.AccrException;
import dev.accr.api.CorruptImageException;
import dev.accr.api.Untrusted;
import dev.accr.image.CheckpointId;
import dev.accr.image.FaultInjection;
import dev.accr.image.ImageKind;
import dev.accr.image.ImageSetWriter;
import dev.accr.image.StreamedFileCheck;
import dev.accr.proto.InventoryEntry;
import dev.accr.proto.ReceiveSetReply;
import dev.accr.proto.Response;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Receives an image set another node streams here ({@link SetFrames}) and writes it as a local
 * dump would: into a temporary directory next to the target, renamed into place only on the
 * sender's commit with every file complete. Each file is checked as it arrives
 * ({@link StreamedFileCheck}); a bad file, a broken connection or an abort leaves nothing.
 */
final class SetReceiver {
  /** How long the sender may stay silent (it may be freezing a process, or copying VRAM). */
  private static final long IDLE_LIMIT_NANOS = 120_000_000_000L;

  private final Path target;
  private final CheckpointId id;
  private final Map<Integer, OpenFile> open = new HashMap<>();
  private final Set<String> names = new HashSet<>();
  private byte[] buffer = new byte[64 << 10];
  private long received;

  private record OpenFile(String name, FileChannel channel, StreamedFileCheck check) {}

  SetReceiver(Path target, CheckpointId id) {
    this.target = target;
    this.id = id;
  }

  /**
   * Receives the set from {@code in}: answers ready on {@code out} once the target is checked,
   * then reads frames until the commit; returns the final reply.
   */
  ReceiveSetReply receive(InputStream in, Consumer<Response> out, String shownAs)
      throws IOException {
    try (ImageSetWriter set = ImageSetWriter.create(target, id)) {
      out.accept(Response.newBuilder().setReceiveSet(ReceiveSetReply.newBuilder().setReady(true))
          .build());
      DataInputStream data = new DataInputStream(new BufferedInputStream(in, 256 << 10));
      try {
        while (true) {
          int type = read(data);
          switch (type) {
            case SetFrames.OPEN -> open(set, data);
            case SetFrames.DATA -> data(data);
            case SetFrames.CLOSE -> close(file(data.readInt()));
            case SetFrames.COMMIT -> {
              commit(set, data);
              return ReceiveSetReply.newBuilder().setDir(shownAs).setBytesReceived(received)
                  .build();
            }
            case SetFrames.ABORT -> throw AccrException.failed(
                "receiving %s: the sender abandoned the set", shownAs);
            default -> throw AccrException.usage("receiving %s: unknown frame %d", shownAs,
                type);
          }
        }
      } catch (EOFException e) {
        throw AccrException.failed("receiving %s: the sender went away before the set was"
            + " complete", shownAs);
      } finally {
        for (OpenFile f : open.values()) {
          f.channel().close();
        }
      }
    }
  }

  /** The next frame's type; a silent sender is waited for up to the idle limit. */
  private static int read(DataInputStream in) throws IOException {
    long since = System.nanoTime();
    while (true) {
      try {
        int type = in.read();
        if (type < 0) {
          throw new EOFException();
        }
        return type;
      } catch (SocketTimeoutException e) {
        if (System.nanoTime() - since > IDLE_LIMIT_NANOS) {
          throw AccrException.failed("receiving a set: the sender was silent for %d s",
              IDLE_LIMIT_NANOS / 1_000_000_000L);
        }
      }
    }
  }

  private void open(ImageSetWriter set, DataInputStream in) throws IOException {
    int file = in.readInt();
    int length = in.readUnsignedShort();
    if (length == 0 || length > SetFrames.MAX_NAME) {
      throw new CorruptImageException(target.toString(), "file name length " + length);
    }
    String name = new String(in.readNBytes(length), StandardCharsets.US_ASCII);
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || ImageKind.ofFileName(name) == null
        || name.equals(ImageKind.INVENTORY.fileName())) {
      throw new CorruptImageException(target.toString(), "not a file of an image set: "
          + Untrusted.quote(name));
    }
    if (!names.add(name) || open.containsKey(file)) {
      throw new CorruptImageException(name, "sent twice");
    }
    StreamedFileCheck check = new StreamedFileCheck(name, id);
    FaultInjection.step("receive:" + target.getFileName() + "/" + name);
    FileChannel ch = FileChannel.open(set.directory().resolve(name),
        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    open.put(file, new OpenFile(name, ch, check));
  }

  private void data(DataInputStream in) throws IOException {
    OpenFile f = file(in.readInt());
    int length = in.readInt();
    if (length < 0 || length > SetFrames.MAX_DATA) {
      throw new CorruptImageException(f.name(), "data frame of " + length + " bytes");
    }
    if (buffer.length < length) {
      buffer = new byte[Math.max(length, buffer.length * 2)];
    }
    in.readFully(buffer, 0, length);
    f.check().accept(buffer, 0, length);
    ByteBuffer b = ByteBuffer.wrap(buffer, 0, length);
    while (b.hasRemaining()) {
      f.channel().write(b);
    }
    received += length;
  }

  private OpenFile file(int file) {
    OpenFile f = open.get(file);
    if (f == null) {
      throw new CorruptImageException(target.toString(), "frame for file " + file
          + ", which is not open");
    }
    return f;
  }

  private void close(OpenFile f) throws IOException {
    f.check().finish();
    f.channel().force(true);
    f.channel().close();
    open.values().remove(f);
  }

  private void commit(ImageSetWriter set, DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > SetFrames.MAX_INVENTORY) {
      throw new CorruptImageException(target.toString(), "inventory of " + length + " bytes");
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    InventoryEntry inventory = InventoryEntry.parseFrom(bytes);
    if (!open.isEmpty()) {
      throw new CorruptImageException(open.values().iterator().next().name(),
          "not complete when the set was committed");
    }
    set.commit(inventory.toBuilder());
  }
}
