package dev.accr.api;

/**
 * An image file is corrupt, truncated or not an image of the expected kind (exit code 3).
 * The message names the file (a bounded, escaped prefix of its name: see {@link Untrusted});
 * {@link #file()} returns it whole.
 */
public final class CorruptImageException extends AccrException {
  private final String file;

  public CorruptImageException(String file, String what) {
    super(CORRUPT, what + " (" + Untrusted.name(file) + ")");
    this.file = file;
  }

  public CorruptImageException(String file, String what, Throwable cause) {
    super(CORRUPT, what + " (" + Untrusted.name(file) + ")", cause);
    this.file = file;
  }

  /** The file at fault, as the reader named it. */
  public String file() {
    return file;
  }
}
