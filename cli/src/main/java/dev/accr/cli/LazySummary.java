package dev.accr.cli;

import dev.accr.api.Sizes;
import dev.accr.proto.LazyDeviceInfo;
import dev.accr.proto.LazyPagesInfo;
import java.io.PrintWriter;

/** How a lazily restored process's pages came, in words, for restore, migrate and ps. */
final class LazySummary {
  private LazySummary() {}

  static void restore(PrintWriter out, LazyPagesInfo lazy) {
    out.printf("  lazy: %d host pages to load on first touch and in the background%s%n",
        lazy.getPagesTotal() - lazy.getPagesFaulted() - lazy.getPagesPushed(),
        lazy.getCheckedFirst() ? " (every chunk checked first)" : " (chunks checked when loaded)");
    for (LazyDeviceInfo d : lazy.getDevicesList()) {
      out.printf("  lazy: %s, %d units of %s%n", d.getName(), d.getUnits(),
          Sizes.bytes(d.getUnitBytes()));
    }
    for (String p : lazy.getEagerPluginsList()) {
      out.printf("  %s: device memory restored eagerly (the plugin has no lazy restore)%n", p);
    }
    out.println("  `accr ps` shows how the pages came (by fault vs pushed)");
  }

  /** One line: "lazy: 100/120 pages in (20 by fault, 80 pushed); kfd VRAM: ...". */
  static String line(LazyPagesInfo lazy) {
    StringBuilder b = new StringBuilder("lazy: ");
    long in = lazy.getPagesFaulted() + lazy.getPagesPushed();
    b.append(String.format("%d/%d pages in (%d by fault, %d pushed)", in, lazy.getPagesTotal(),
        lazy.getPagesFaulted(), lazy.getPagesPushed()));
    for (LazyDeviceInfo d : lazy.getDevicesList()) {
      b.append(String.format("; %s: %d/%d in (%d by fault, %d pushed)", d.getName(),
          d.getFaulted() + d.getPushed(), d.getUnits(), d.getFaulted(), d.getPushed()));
    }
    if (!lazy.getFailure().isEmpty()) {
      b.append("; FAILED: ").append(lazy.getFailure());
    } else if (lazy.getDone()) {
      b.append(String.format("; all in after %d ms", lazy.getMillis()));
    }
    return b.toString();
  }
}
