package dev.accr.kernel;

/** One end of a pipe, open for reading or for writing. */
public final class PipeEnd extends FileDescription {
  private final Pipe pipe;
  private final boolean readEnd;

  PipeEnd(long id, Pipe pipe, boolean readEnd) {
    super(id);
    this.pipe = pipe;
    this.readEnd = readEnd;
    if (readEnd) {
      pipe.addReader();
    } else {
      pipe.addWriter();
    }
  }

  public Pipe pipe() {
    return pipe;
  }

  public boolean isReadEnd() {
    return readEnd;
  }

  @Override
  void closeLast() {
    if (readEnd) {
      pipe.closeReader();
    } else {
      pipe.closeWriter();
    }
  }

  @Override
  public String describe() {
    return pipe + (readEnd ? " (read end)" : " (write end)");
  }
}
