package dev.accr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The command line built for one command behaves as the whole tree does for it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CommandTreeTest {
  private static final Map<String, String> ENV = Map.of();

  /** What {@code args} print on both streams and return, with the tree Main builds for them. */
  private static String run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = AccrCommandLine.create(new PrintWriter(out), new PrintWriter(err), ENV, args)
        .execute(args);
    return code + "\n" + out + "\n" + err;
  }

  /** The same with every command built: one tree for every call (a tree is slow to build). */
  private final StringWriter wholeOut = new StringWriter();
  private final StringWriter wholeErr = new StringWriter();
  private final CommandLine whole = AccrCommandLine.create(new PrintWriter(wholeOut, true),
      new PrintWriter(wholeErr, true), ENV);

  private String runWhole(String... args) {
    wholeOut.getBuffer().setLength(0);
    wholeErr.getBuffer().setLength(0);
    int code = whole.execute(args);
    return code + "\n" + wholeOut + "\n" + wholeErr;
  }

  @Test
  void tableNamesEachCommandAsItsAnnotationDoes() {
    for (Map.Entry<String, Class<?>> c : AccrCommands.TOP.entrySet()) {
      assertEquals(c.getKey(), c.getValue().getAnnotation(Command.class).name());
    }
    assertEquals(List.copyOf(AccrCommands.TOP.keySet()),
        List.copyOf(whole.getSubcommands().keySet()));
  }

  @Test
  void aCommandIsBuiltAloneAfterAccrsOwnOptions() {
    assertEquals(List.of("ps"), AccrCommandLine.commandsFor(new String[] {"ps", "--node", "a"}));
    assertEquals(List.of("dump"), AccrCommandLine.commandsFor(
        new String[] {"-v", "--log-file", "ps", "--plugin-dir", "node", "dump", "-t", "1"}));
    assertEquals(List.of(), AccrCommandLine.commandsFor(new String[] {"--version"}));
  }

  @Test
  void helpCompletionTyposAndNoCommandGetTheWholeTree() {
    for (String[] args : List.of(new String[] {}, new String[] {"help", "ps"},
        new String[] {"completion", "bash"}, new String[] {"dupm"}, new String[] {"--help"},
        new String[] {"--version", "--help"}, new String[] {"--", "ps"})) {
      assertEquals(List.copyOf(AccrCommands.TOP.keySet()),
          List.copyOf(AccrCommandLine.commandsFor(args)), String.join(" ", args));
    }
  }

  @Test
  void eachCommandAloneHelpsAndRefusesAsInTheWholeTree() {
    // Commands of each kind: a node's client, with subcommands, with a mixin, a workload's,
    // with a model transformer (each built alone costs a registry: not every one is tried).
    for (String name : List.of("ps", "node", "dump", "run", "bench", "topology")) {
      assertEquals(runWhole(name, "--help"), run(name, "--help"), name);
      assertEquals(runWhole(name, "--no-such-option"), run(name, "--no-such-option"), name);
    }
    assertEquals(runWhole("node", "start", "--help"), run("node", "start", "--help"));
    assertEquals(runWhole("--version"), run("--version"));
    assertEquals(runWhole("dupm"), run("dupm"));
  }

  @Test
  void aCommandsModelTransformerStillApplies() {
    // bench adds an option per installed benchmark in its transformer.
    assertTrue(run("bench", "--help").contains("--incremental"), run("bench", "--help"));
    assertTrue(runWhole("bench", "--help").contains("--incremental"));
  }
}
