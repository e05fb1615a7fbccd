package dev.accr.api;

/**
 * Signal numbers of the simulated kernel (API 6), as on Linux x86-64. A signal sent with
 * {@link ProcessView#kill} is pending in the target until delivered: {@link #SIGKILL} always,
 * and {@link #SIGTERM}, {@link #SIGINT} and {@link #SIGHUP} unless the program catches them
 * ({@link ProcessView#catchSignal}), end the target at its next step boundary with exit status
 * {@code 128 + signal}; every other signal stays pending until the program takes it with
 * {@link ProcessView#takeSignal}. Pending signals are process state: a checkpoint carries them.
 */
public final class Signals {
  public static final int SIGHUP = 1;
  public static final int SIGINT = 2;
  public static final int SIGKILL = 9;
  public static final int SIGUSR1 = 10;
  public static final int SIGUSR2 = 12;
  public static final int SIGPIPE = 13;
  public static final int SIGTERM = 15;
  public static final int SIGCHLD = 17;
  /** Signals are numbered 1 to this. */
  public static final int MAX = 63;

  private Signals() {}

  /** The bit of {@code signal} in a signal mask such as {@link ProcessView#pendingSignals}. */
  public static long bit(int signal) {
    if (signal < 1 || signal > MAX) {
      throw AccrException.failed("kill: invalid signal %d (1..%d)", signal, MAX);
    }
    return 1L << (signal - 1);
  }

  /** Whether {@code signal} ends a process that does not catch it. */
  public static boolean fatalByDefault(int signal) {
    return signal == SIGKILL || signal == SIGTERM || signal == SIGINT || signal == SIGHUP;
  }

  static AccrException unsupported(String what) {
    return AccrException.failed("%s is not supported by this node (plugin API 6)", what);
  }
}
