package dev.accr.cli;

import java.io.PrintWriter;

/** The entry point of the runnable jar. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int code = AccrCommandLine.create(out, err, System.getenv(), args).execute(args);
    out.flush();
    err.flush();
    System.exit(code);
  }
}
