package dev.accr.api;

/** Protection bits of a memory mapping. */
public final class Prot {
  public static final int READ = 1;
  public static final int WRITE = 2;
  public static final int EXEC = 4;
  public static final int RW = READ | WRITE;

  private Prot() {}

  /** The {@code rwx} form used in listings, e.g. {@code rw-}. */
  public static String toString(int prot) {
    return ((prot & READ) != 0 ? "r" : "-")
        + ((prot & WRITE) != 0 ? "w" : "-")
        + ((prot & EXEC) != 0 ? "x" : "-");
  }
}
