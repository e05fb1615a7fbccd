package dev.accr.node;

/**
 * The frames of an image set streamed from one node to another, after a
 * {@code ReceiveSetRequest} on the same connection (all integers big-endian):
 *
 * <pre>
 * Stream := Frame* (Commit | Abort)        (the first connection)
 * Joined := Frame* (End | Abort)           (each further connection of the set, if any)
 * Frame  := Open | Data | Close | DataAt | CloseAt
 * Open   := 1 file:int32 nameLength:uint16 name:ascii   (a new file of the set)
 * Data   := 2 file:int32 length:int32 bytes             (the file's next bytes)
 * Close  := 3 file:int32                                (the file is complete)
 * Commit := 4 length:int32 inventory:protobuf           (InventoryEntry, its files unlisted)
 * Abort  := 5
 * End    := 6                                           (this stream's frames are all sent)
 * DataAt := 7 file:int32 turn:int32 length:int32 bytes  (Data, the file's frame number turn)
 * CloseAt := 8 file:int32 turn:int32                    (Close, the file's frame number turn)
 * </pre>
 *
 * Files are identified by numbers the sender chooses, unique in the set; their data frames may
 * interleave. When the receiver took more than one connection ({@code ReceiveSetReply.streams}),
 * each writer thread of the sender sends on a connection of its own, so that several are
 * sent, decrypted and checked at once: a file's frames then go over whichever connection its
 * writer of the moment has, numbered (DataAt and CloseAt, from 1 after its Open), and the
 * receiver takes each in its turn. A frame of a file is sent whole and flushed before the next
 * one of that file goes over another connection, so a frame waited for was always sent before
 * the one waiting, and the waits end. The sender ends every further connection before it commits
 * on the first. The receiver checks every file as its bytes arrive (its header, every chunk's
 * checksum, its footer), and commits the set only on Commit with every stream ended and every
 * file closed.
 */
final class SetFrames {
  static final int OPEN = 1;
  static final int DATA = 2;
  static final int CLOSE = 3;
  static final int COMMIT = 4;
  static final int ABORT = 5;
  static final int END = 6;
  static final int DATA_AT = 7;
  static final int CLOSE_AT = 8;
  /** A data frame carries at most this many bytes. */
  static final int MAX_DATA = 8 << 20;
  /** An inventory is small; a larger one is not believed. */
  static final int MAX_INVENTORY = 1 << 20;
  static final int MAX_NAME = 255;
  /** Connections one set may come over, at most. */
  static final int MAX_STREAMS = 16;

  private SetFrames() {}
}
