package dev.accr.node;

import com.google.protobuf.ByteString;
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
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * Receives an image set another node streams here ({@link SetFrames}) and writes it as a local
 * dump would: into a temporary directory next to the target, renamed into place only on the
 * sender's commit with every file complete. The set may come over several connections (its
 * streams), each read, checked and written by its own thread. Each file is checked as it
 * arrives ({@link StreamedFileCheck}); a bad file, a broken connection, an abort on any
 * stream or a sender that sends nothing for the node's idle limit leaves nothing.
 */
final class SetReceiver {
  private final Path target;
  private final CheckpointId id;
  private final IncomingSets sets;
  private final Caller sender;

  /** A receiver of the set {@code id} into {@code target}, sent by {@code sender}. */
  SetReceiver(Path target, CheckpointId id, IncomingSets sets, Caller sender) {
    this.target = target;
    this.id = id;
    this.sets = sets;
    this.sender = sender;
  }

  /**
   * Receives the set on {@code in}: answers ready on {@code out} once the target is checked
   * (taking up to {@code streamsAsked} connections in all), then reads frames until the commit;
   * returns the final reply.
   */
  ReceiveSetReply receive(Inbound in, int streamsAsked, Consumer<Response> out, String shownAs)
      throws IOException {
    try (ImageSetWriter writer = ImageSetWriter.create(target, id)) {
      int streams = Math.clamp(streamsAsked, 1, SetFrames.MAX_STREAMS);
      IncomingSet set = new IncomingSet(writer, sender, streams - 1, shownAs,
          sets.senderIdleTimeout());
      ByteString key = streams > 1 ? sets.register(set) : null;
      try {
        ReceiveSetReply.Builder ready = ReceiveSetReply.newBuilder().setReady(true);
        if (key != null) {
          ready.setStreams(streams).setJoinKey(key);
        }
        out.accept(Response.newBuilder().setReceiveSet(ready).build());
        InventoryEntry inventory;
        try (FrameInput frames = new FrameInput(in, set)) {
          inventory = new Stream(set, id, frames).untilCommit();
        }
        set.awaitStreams();
        set.checkComplete();
        writer.commit(inventory.toBuilder());
        return ReceiveSetReply.newBuilder().setDir(shownAs).setBytesReceived(set.received())
            .build();
      } catch (IOException | RuntimeException e) {
        set.drop(e);
        if (e instanceof SenderSilent silent) {
          sets.logSilent(shownAs, sender, silent); // its sender hears nothing of it
        }
        throw e;
      } finally {
        if (key != null) {
          sets.remove(key);
        }
        set.close(); // streams still running are stopped before the directory goes
      }
    }
  }

  /**
   * Serves one more stream of the set whose key {@code key} is, on {@code in}: answers ready on
   * {@code out}, then reads its frames until its end. A failure is thrown (the caller answers
   * it) and fails the set.
   */
  static void join(IncomingSets sets, ByteString key, Caller caller, Inbound in,
      Consumer<Response> out) throws IOException {
    IncomingSet set = sets.find(key);
    if (set == null || !set.join(caller, in)) {
      throw AccrException.usage("receiving a set: no set takes a stream with that key");
    }
    try {
      out.accept(Response.newBuilder().setReceiveSet(ReceiveSetReply.newBuilder().setReady(true))
          .build());
      try (FrameInput frames = new FrameInput(in, set)) {
        new Stream(set, set.writer().id(), frames).untilEnd();
      }
      set.ended();
    } catch (IOException | RuntimeException e) {
      set.failed(e);
      RuntimeException first = set.dropped();
      if (first != null) {
        throw first; // a stream stopped because the set failed says why
      }
      throw e;
    }
  }

  /** The frames of one connection, of whichever files they are. */
  private static final class Stream {
    private final IncomingSet set;
    private final CheckpointId id;
    private final FrameInput in;

    Stream(IncomingSet set, CheckpointId id, FrameInput in) {
      this.set = set;
      this.id = id;
      this.in = in;
    }

    /** Frames until the commit, whose inventory is returned (the first connection). */
    InventoryEntry untilCommit() throws IOException {
      if (frames() != SetFrames.COMMIT) {
        throw new CorruptImageException(set.shownAs(), "a stream's end on the first stream");
      }
      int length = in.readInt();
      if (length < 0 || length > SetFrames.MAX_INVENTORY) {
        throw new CorruptImageException(set.shownAs(), "inventory of " + length + " bytes");
      }
      return InventoryEntry.parseFrom(in.readBytes(length));
    }

    /** Frames until this stream's end (a joined stream). */
    void untilEnd() throws IOException {
      if (frames() != SetFrames.END) {
        throw new CorruptImageException(set.shownAs(), "a commit on a joined stream");
      }
    }

    /** Reads files' frames; returns the type of the first frame that ends the stream. */
    private int frames() throws IOException {
      try {
        while (true) {
          int type = in.type();
          switch (type) {
            case SetFrames.OPEN -> open();
            case SetFrames.DATA -> data(in.readInt(), -1);
            case SetFrames.CLOSE -> close(in.readInt(), -1);
            case SetFrames.DATA_AT -> data(in.readInt(), turn());
            case SetFrames.CLOSE_AT -> close(in.readInt(), turn());
            case SetFrames.COMMIT, SetFrames.END -> {
              return type;
            }
            case SetFrames.ABORT -> throw AccrException.failed(
                "receiving %s: the sender abandoned the set", set.shownAs());
            case -1 -> throw new EOFException();
            default -> throw AccrException.usage("receiving %s: unknown frame %d",
                set.shownAs(), type);
          }
        }
      } catch (EOFException e) {
        throw AccrException.failed("receiving %s: the sender went away before the set was"
            + " complete", set.shownAs());
      }
    }

    private int turn() throws IOException {
      int turn = in.readInt();
      if (turn < 1) {
        throw new CorruptImageException(set.shownAs(), "frame number " + turn);
      }
      return turn;
    }

    private void open() throws IOException {
      int file = in.readInt();
      int length = in.readUnsignedShort();
      if (length == 0 || length > SetFrames.MAX_NAME) {
        throw new CorruptImageException(set.shownAs(), "file name length " + length);
      }
      String name = new String(in.readBytes(length), StandardCharsets.US_ASCII);
      if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || ImageKind.ofFileName(name) == null
          || name.equals(ImageKind.INVENTORY.fileName())) {
        throw new CorruptImageException(set.shownAs(), "not a file of an image set: "
            + Untrusted.quote(name));
      }
      set.claim(file, name);
      StreamedFileCheck check = new StreamedFileCheck(name, id);
      FaultInjection.step("receive:" + set.writer().target().getFileName() + "/" + name);
      FileChannel ch = FileChannel.open(set.directory().resolve(name),
          StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      set.opened(file, new IncomingSet.ReceivedFile(name, ch, check));
    }

    /** A data frame of {@code file}: in its turn {@code turn}, or next (-1). */
    private void data(int file, int turn) throws IOException {
      int length = in.readInt();
      IncomingSet.ReceivedFile f = set.awaitTurn(file, turn, turn > 0);
      if (length < 0 || length > SetFrames.MAX_DATA) {
        throw new CorruptImageException(f.name, "data frame of " + length + " bytes");
      }
      in.payload(length, piece -> {
        f.check.accept(piece);
        while (piece.hasRemaining()) {
          f.channel.write(piece);
        }
      });
      set.addReceived(length);
      set.done(f, false);
    }

    private void close(int file, int turn) throws IOException {
      IncomingSet.ReceivedFile f = set.awaitTurn(file, turn, turn > 0);
      f.check.finish();
      f.channel.force(true);
      f.channel.close();
      set.done(f, true);
    }
  }
}
