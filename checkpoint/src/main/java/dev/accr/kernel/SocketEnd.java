package dev.accr.kernel;

/**
 * One end of a connected pair of UNIX stream sockets: it reads from one pipe and writes into
 * the other, and its peer the other way round.
 */
public final class SocketEnd extends FileDescription {
  private final Pipe in;
  private final Pipe out;

  SocketEnd(long id, Pipe in, Pipe out) {
    super(id);
    this.in = in;
    this.out = out;
    in.addReader();
    out.addWriter();
  }

  /** What this end reads (its peer writes). */
  public Pipe in() {
    return in;
  }

  /** What this end writes (its peer reads). */
  public Pipe out() {
    return out;
  }

  @Override
  void closeLast() {
    in.closeReader();
    out.closeWriter();
  }

  @Override
  public String describe() {
    return "socket:[" + id() + "]";
  }
}
