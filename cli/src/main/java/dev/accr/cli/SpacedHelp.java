package dev.accr.cli;

import java.util.List;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Help that shows an option and its value as {@code -D DIR}, the way users type them, rather
 * than picocli's {@code -D=DIR} (both are accepted).
 */
final class SpacedHelp extends Help {
  SpacedHelp(CommandSpec spec, ColorScheme colors) {
    super(spec, colors);
  }

  @Override
  public IParamLabelRenderer parameterLabelRenderer() {
    IParamLabelRenderer labels = super.parameterLabelRenderer();
    return new IParamLabelRenderer() {
      @Override
      public Ansi.Text renderParameterLabel(ArgSpec arg, Ansi ansi, List<Ansi.IStyle> styles) {
        Ansi.Text text = labels.renderParameterLabel(arg, ansi, styles);
        String plain = text.plainString();
        return arg.isOption() && plain.startsWith(labels.separator())
            ? ansi.new Text(" ", colorScheme()).concat(
                text.substring(labels.separator().length()))
            : text;
      }

      @Override
      public String separator() {
        return " ";
      }
    };
  }
}
