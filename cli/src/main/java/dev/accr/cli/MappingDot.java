package dev.accr.cli;

import dev.accr.api.DevicePair;
import dev.accr.engine.MappingDryRun;
import dev.accr.proto.Device;
import dev.accr.proto.Link;
import dev.accr.proto.LinkType;
import dev.accr.proto.Topology;
import java.util.HashSet;
import java.util.Set;

/**
 * A Graphviz picture of a device mapping: the image's source topology and the target side by
 * side (XGMI links bold, PCIe dashed, devices the image used filled) and an arrow from each
 * image device to the device it takes.
 */
final class MappingDot {
  private MappingDot() {}

  static String render(MappingDryRun.Plan plan, DeviceLabels labels) {
    Set<Integer> usedSource = new HashSet<>();
    Set<Integer> usedTarget = new HashSet<>();
    for (DevicePair d : plan.devices()) {
      usedSource.add(d.imageNode());
      usedTarget.add(d.targetNode());
    }
    StringBuilder b = new StringBuilder("digraph mapping {\n  rankdir=LR;\n"
        + "  node [shape=box, fontname=\"monospace\"];\n");
    cluster(b, "image", "image: dumped on " + plan.source().getName(), plan.source(), usedSource,
        labels);
    cluster(b, "target", "target: " + plan.target().getName(), plan.target(), usedTarget,
        labels);
    for (DevicePair d : plan.devices()) {
      b.append(String.format("  image_%d -> target_%d [color=blue, penwidth=2, label=\"%s\"];%n",
          d.imageNode(), d.targetNode(),
          d.differences().isEmpty() ? "identical" : d.differences().size() + " differences"));
    }
    return b.append("}\n").toString();
  }

  private static void cluster(StringBuilder b, String side, String label, Topology t,
      Set<Integer> used, DeviceLabels labels) {
    b.append(String.format("  subgraph cluster_%s {%n    label=\"%s\";%n", side, quoted(label)));
    for (Device d : t.getDevicesList()) {
      String model = labels.label(d).model();
      b.append(String.format("    %s_%d [label=\"%s\\n%snode %d\"%s];%n", side, d.getNode(),
          quoted(labels.name(d)), model.isEmpty() ? "" : quoted(model) + "\\n", d.getNode(),
          used.contains(d.getNode()) ? ", style=filled, fillcolor=lightblue" : ""));
    }
    Set<Integer> devices = new HashSet<>();
    t.getDevicesList().forEach(d -> devices.add(d.getNode()));
    for (Link l : t.getLinksList()) {
      if (l.getFrom() < l.getTo() && devices.contains(l.getFrom())
          && devices.contains(l.getTo())) {
        b.append(String.format("    %s_%d -> %s_%d [dir=none, %s];%n", side, l.getFrom(), side,
            l.getTo(), l.getType() == LinkType.XGMI ? "penwidth=3, label=\"XGMI\""
                : "style=dashed, label=\"PCIe\""));
      }
    }
    b.append("  }\n");
  }

  /** Text inside a quoted Graphviz string. */
  private static String quoted(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
