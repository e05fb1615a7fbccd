package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Every command's help: a description for each command, option and positional parameter,
 * placeholders a user can read (no field names), usage as {@code -D DIR}.
 */
class HelpTextTest {
  private static CommandLine root() {
    return AccrCommandLine.create(new PrintWriter(new StringWriter()),
        new PrintWriter(new StringWriter()), Map.of());
  }

  private static List<CommandLine> all(CommandLine cl) {
    List<CommandLine> out = new ArrayList<>(List.of(cl));
    cl.getSubcommands().values().stream().distinct().forEach(c -> out.addAll(all(c)));
    return out;
  }

  @Test
  void everyCommandOptionAndParameterIsDescribedWithAReadablePlaceholder() {
    List<String> missing = new ArrayList<>();
    for (CommandLine cl : all(root())) {
      CommandSpec spec = cl.getCommandSpec();
      String name = spec.qualifiedName();
      if (String.join("", spec.usageMessage().description()).isBlank()) {
        missing.add(name + ": no description");
      }
      List<ArgSpec> args = new ArrayList<>(spec.options());
      args.addAll(spec.positionalParameters());
      for (ArgSpec a : args) {
        String what = name + " " + (a instanceof OptionSpec o ? o.longestName()
            : a.paramLabel());
        if (String.join("", a.description()).isBlank()) {
          missing.add(what + ": no description");
        }
        if (a.arity().max() > 0 && (a.paramLabel().contains("<") || a.paramLabel().isBlank())) {
          missing.add(what + ": placeholder " + a.paramLabel());
        }
      }
    }
    assertEquals(List.of(), missing);
  }

  @Test
  void usageSeparatesOptionsFromTheirValuesWithASpace() {
    CliRun r = accr("dump", "--help");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("-D, --images-dir DIR"), r.out());
    assertFalse(r.out().contains("=DIR"), r.out());
  }

  @Test
  void aWorkloadsHelpListsItsOptionsWithDefaultsWithoutANode() {
    // No node "nowhere" runs: the help comes from the installed workloads.
    CliRun r = accr("run", "--node", "nowhere", "counter", "--help");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().lines().anyMatch(l -> l.matches("\\s+--mem-mib MIB\\s+64\\s+\\S.*")),
        r.out());
    assertEquals(r.out(), accr("plugins", "counter").out());
    CliRun unknown = accr("plugins", "nosuch");
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("installed: ") && unknown.err().contains("counter"),
        unknown.err());
  }

  @Test
  void aMistypedCommandGetsASuggestion() {
    CliRun r = accr("dupm");
    assertEquals(2, r.code());
    String first = r.err().lines().findFirst().orElseThrow();
    assertTrue(first.startsWith("accr: unknown command 'dupm'; did you mean 'dump'"), first);
  }

  @Test
  void helpOfACommandIsItsUsage() {
    CliRun r = accr("help", "dump");
    assertEquals(0, r.code(), r.err());
    assertEquals(accr("dump", "--help").out(), r.out());
    CliRun nested = accr("help", "node", "start");
    assertEquals(0, nested.code(), nested.err());
    assertEquals(accr("node", "start", "--help").out(), nested.out());
    CliRun unknown = accr("help", "node", "strat");
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("'accr node' has no command 'strat'"), unknown.err());
  }

  @Test
  void completionScriptsCompleteCommands() throws Exception {
    for (String shell : List.of("bash", "zsh")) {
      CliRun r = accr("completion", shell);
      assertEquals(0, r.code(), r.err());
      assertTrue(r.out().contains("complete -F _complete_accr") && r.out().contains("restore"),
          shell);
    }
    // bash reads it without error and registers the completion.
    Process bash = new ProcessBuilder("bash", "-c", "source /dev/stdin; complete -p accr")
        .redirectErrorStream(true).start();
    bash.getOutputStream().write(accr("completion", "bash").out().getBytes());
    bash.getOutputStream().close();
    String out = new String(bash.getInputStream().readAllBytes());
    assertEquals(0, bash.waitFor(), out);
    assertTrue(out.contains("_complete_accr"), out);
    assertEquals(2, accr("completion", "fish").code());
  }
}
