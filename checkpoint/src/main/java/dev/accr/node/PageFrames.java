package dev.accr.node;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;

/**
 * The frames of a post-copy migration, on the connection the source node opens to the target
 * with a {@code PostCopyRequest} before it freezes the process (so that no handshake falls in
 * the downtime). The target answers one {@code PostCopyReply} (ready, and whether it takes
 * eager units: the host units the index calls eager then follow it unasked, and an older
 * target that does not say so is sent only what it asks for; and whether it takes the index
 * before the set is committed); from then on both send frames (all integers big-endian):
 *
 * <pre>
 * source → target:  Index    := 1 length:int32 PostCopyIndex      (restore the set "final"
 *                                                                  once it is committed)
 *                   Unit     := 2 unit:int32 length:int32 bytes     (a unit's contents)
 *                   Failed   := 3 length:int32 utf8                 (the source cannot serve)
 *                   Go       := 4                                   (the set is committed and
 *                                                                  the dump succeeded: start
 *                                                                  the process)
 * target → source:  Fetch    := 1 unit:int32 urgent:int8            (send this unit)
 *                   Done     := 2 length:int32 LazyPagesInfo        (every unit is in, or the
 *                                                                    process ended there)
 *                   Restored := 3 length:int32 MigrationStepReply   (the process runs here)
 *                   Refused  := 4 exitCode:int32 length:int32 utf8  (the restore failed; the
 *                                                                    target holds nothing)
 * </pre>
 *
 * Both ends also send {@code Heartbeat := 0} every second, whatever else they send; an end
 * that hears nothing at all (no frame, no heartbeat) from the other for 10 seconds takes it
 * for lost and closes the connection ({@link LinkWatch}): the target kills the process, the
 * source thaws it (before the target ran it) or kills its copy (after).
 *
 * <p>A target that takes it gets the index while the source's dump still commits its set
 * ({@code before_set}): it plans and restores meanwhile, from the moment the set is committed
 * on it, and waits for Go before the process starts, as the source's dump can still fail and
 * thaw the process there. An older target gets the index after the commit and no Go.
 *
 * <p>A unit is the index's host units first (their runs' pages, in order), then every file's
 * chunks. The source sends units in the order asked, urgent ones (a first touch) before the
 * others (the target's background pusher, which asks a few units ahead). A connection that
 * ends before Done means the target lost the source: it kills the process.
 */
final class PageFrames {
  /** Both ways: nothing but a sign of life. */
  static final int HEARTBEAT = 0;
  static final int INDEX = 1;
  static final int UNIT = 2;
  static final int FAILED = 3;
  static final int GO = 4;
  static final int FETCH = 1;
  static final int DONE = 2;
  static final int RESTORED = 3;
  static final int REFUSED = 4;
  /** A unit larger than this is not believed (host units are 1 MiB, device chunks ≤ 16 MiB). */
  static final int MAX_UNIT = 16 << 20;
  /** An index or a report larger than this is not believed. */
  static final int MAX_MESSAGE = 64 << 20;

  private PageFrames() {}

  /** Reads a length-prefixed message of at most {@link #MAX_MESSAGE} bytes. */
  static byte[] readMessage(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > MAX_MESSAGE) {
      throw new IOException("post-copy frame of " + length + " bytes, more than "
          + MAX_MESSAGE);
    }
    byte[] b = in.readNBytes(length);
    if (b.length < length) {
      throw new EOFException("post-copy frame cut short");
    }
    return b;
  }

  static void writeMessage(DataOutputStream out, int type, byte[] message) throws IOException {
    out.writeByte(type);
    out.writeInt(message.length);
    out.write(message);
  }
}
