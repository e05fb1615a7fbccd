package dev.accr.api;

/**
 * An error that accr reports to its user as one line, with the exit code the command line
 * returns for it. Subclasses name the kinds of failure the command line distinguishes.
 */
public class AccrException extends RuntimeException {
  /** Exit code: the operation failed. */
  public static final int FAILED = 1;
  /** Exit code: the command was used wrongly. */
  public static final int USAGE = 2;
  /** Exit code: an image is corrupt, truncated or unreadable. */
  public static final int CORRUPT = 3;
  /** Exit code: incompatible (topology, missing plugin, format too new or too old). */
  public static final int INCOMPATIBLE = 4;
  /** Exit code: no such node or process. */
  public static final int NOT_FOUND = 5;

  private final int exitCode;

  public AccrException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public AccrException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** A failed operation (exit code 1). */
  public static AccrException failed(String format, Object... args) {
    return new AccrException(FAILED, String.format(format, args));
  }

  /** A usage error (exit code 2). */
  public static AccrException usage(String format, Object... args) {
    return new AccrException(USAGE, String.format(format, args));
  }

  /** Something that is not there (exit code 5). */
  public static AccrException notFound(String format, Object... args) {
    return new AccrException(NOT_FOUND, String.format(format, args));
  }

  /** Something incompatible (exit code 4). */
  public static AccrException incompatible(String format, Object... args) {
    return new AccrException(INCOMPATIBLE, String.format(format, args));
  }

  /** The exit code the command line returns for this error. */
  public int exitCode() {
    return exitCode;
  }
}
