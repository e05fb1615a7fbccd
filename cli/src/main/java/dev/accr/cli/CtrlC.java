package dev.accr.cli;

import dev.accr.node.NodeClient;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * While a dump or restore runs, Ctrl-C (SIGINT) does not end the command at once: it asks the
 * node to cancel (the node then thaws the process, or removes what a restore created) and the
 * command waits for the node's answer, so that it can say what became of the process. A second
 * Ctrl-C ends the command as usual.
 */
final class CtrlC implements AutoCloseable {
  private static final Signal INT = new Signal("INT");

  private final SignalHandler previous;

  private CtrlC(SignalHandler previous) {
    this.previous = previous;
  }

  /** Until closed, Ctrl-C runs {@code onInterrupt} and then requests {@code cancel}. */
  static CtrlC cancels(NodeClient.Cancel cancel, Runnable onInterrupt) {
    SignalHandler[] previous = new SignalHandler[1];
    try {
      previous[0] = Signal.handle(INT, signal -> {
        if (cancel.requested()) {
          try {
            previous[0].handle(signal); // the second Ctrl-C: as if this one were not here
          } catch (RuntimeException nativeHandler) {
            Runtime.getRuntime().exit(128 + signal.getNumber());
          }
          return;
        }
        onInterrupt.run();
        cancel.request();
      });
    } catch (IllegalArgumentException e) {
      return new CtrlC(null); // SIGINT is ignored or taken here (e.g. a background job)
    }
    return new CtrlC(previous[0]);
  }

  @Override
  public void close() {
    if (previous != null) {
      Signal.handle(INT, previous);
    }
  }
}
