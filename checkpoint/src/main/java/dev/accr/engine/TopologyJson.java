package dev.accr.engine;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.accr.api.DeviceType;
import dev.accr.kernel.Registry;
import dev.accr.proto.CpuNode;
import dev.accr.proto.Device;
import dev.accr.proto.Link;
import dev.accr.proto.Topology;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The file form of a topology ({@code accr topology show --json}): each device with every field
 * its type declares, zeros included so the file can be edited, and without the other types'
 * zero fields; cpus and links with every field. Parsing it gives back the same topology.
 */
public final class TopologyJson {
  private static final Set<String> COMMON_FIELDS = Set.of("type", "node");

  private TopologyJson() {}

  /** {@code topology} in its file form, devices described by the types in {@code registry}. */
  public static String of(Topology topology, Registry registry) {
    Set<FieldDescriptor> always = new HashSet<>(Topology.getDescriptor().getFields());
    always.remove(Topology.getDescriptor().findFieldByName("devices")); // inserted below
    always.addAll(CpuNode.getDescriptor().getFields());
    always.addAll(Link.getDescriptor().getFields());
    String outline = print(always, topology.toBuilder().clearDevices().build());
    List<String> devices = new ArrayList<>();
    for (Device d : topology.getDevicesList()) {
      DeviceType type = registry.deviceType(d.getType());
      Set<FieldDescriptor> fields = new HashSet<>();
      for (FieldDescriptor f : Device.getDescriptor().getFields()) {
        if (COMMON_FIELDS.contains(f.getJsonName())
            || type != null && type.deviceFields().contains(f.getJsonName())) {
          fields.add(f);
        }
      }
      devices.add(print(fields, d).indent(4).stripTrailing());
    }
    String block = "\n  \"devices\": [" + (devices.isEmpty() ? "]"
        : "\n" + String.join(",\n", devices) + "\n  ]") + ",";
    int links = outline.indexOf("\n  \"links\": ");
    return JsonOutput.unescapeHtmlSafe(outline.substring(0, links) + block
        + outline.substring(links));
  }

  @SuppressWarnings("deprecation") // the per-field form says exactly which zeros to print
  private static String print(Set<FieldDescriptor> withZeros, Message m) {
    try {
      return JsonFormat.printer().includingDefaultValueFields(withZeros).print(m);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + m.getClass().getName(), e);
    }
  }
}
