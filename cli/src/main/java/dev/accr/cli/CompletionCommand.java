package dev.accr.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code accr completion bash|zsh}: a shell completion script of every command and option. */
@Command(name = "completion", mixinStandardHelpOptions = true,
    description = {"Print a completion script for bash or zsh.",
        "bash: source <(./accr completion bash)   (or save it in"
            + " ~/.local/share/bash-completion/completions/accr)",
        "zsh:  source <(./accr completion zsh)"})
final class CompletionCommand implements Callable<Integer> {
  enum Shell { bash, zsh }

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "SHELL", description = "bash or zsh.")
  Shell shell;

  @Override
  public Integer call() {
    // picocli's script serves both: under zsh it loads bashcompinit itself.
    spec.commandLine().getOut().print(AutoComplete.bash("accr", spec.root().commandLine()));
    return 0;
  }
}
