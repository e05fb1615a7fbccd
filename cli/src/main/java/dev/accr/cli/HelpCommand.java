package dev.accr.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code accr help [COMMAND [SUBCOMMAND]]}: the help of any command, however deep. */
@Command(name = "help", helpCommand = true,
    description = "Print the help of a command, e.g. 'accr help dump' or 'accr help node start'.")
final class HelpCommand implements Runnable {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "COMMAND", arity = "0..*",
      description = "The command, then its subcommand if it has them.")
  List<String> path = new ArrayList<>();

  @Override
  public void run() {
    CommandLine command = spec.parent().commandLine();
    for (String name : path) {
      CommandLine sub = command.getSubcommands().get(name);
      if (sub == null) {
        throw new CommandLine.ParameterException(spec.commandLine(), String.format(
            "'%s' has no command '%s' (see '%s --help')", command.getCommandSpec().qualifiedName(),
            name, command.getCommandSpec().qualifiedName()));
      }
      command = sub;
    }
    command.usage(spec.commandLine().getOut());
  }
}
