package dev.accr.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the accr command line in-process, capturing its exit code and output. */
record CliRun(int code, String out, String err) {

  static CliRun accr(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    // As Main does: only the command that args invoke is built.
    int code = AccrCommandLine.create(new PrintWriter(out), new PrintWriter(err),
        System.getenv(), args).execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }
}
