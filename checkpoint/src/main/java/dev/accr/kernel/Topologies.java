package dev.accr.kernel;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.accr.api.AccrException;
import dev.accr.api.DeviceType;
import dev.accr.proto.CpuNode;
import dev.accr.proto.Device;
import dev.accr.proto.Link;
import dev.accr.proto.Topology;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The topologies a registry knows: the core's presets, each installed device type's presets
 * (resources of the type's class), and topology files (the JSON form of {@link Topology}),
 * checked against the installed device types.
 */
public final class Topologies {
  private static final String PRESETS = "/topologies/";

  private final Registry registry;

  public Topologies(Registry registry) {
    this.registry = registry;
  }

  /** Names of the presets: the core's, then each device type's. */
  public List<String> presets() {
    return new ArrayList<>(presetOwners().keySet());
  }

  /** Preset name -> the class whose resources hold it. */
  private Map<String, Class<?>> presetOwners() {
    Map<String, Class<?>> owners = new LinkedHashMap<>();
    try (InputStream in = Topologies.class.getResourceAsStream(PRESETS + "presets.txt")) {
      new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
          .filter(s -> !s.isEmpty()).forEach(name -> owners.put(name, Topologies.class));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the preset list", e);
    }
    for (DeviceType type : registry.deviceTypes()) {
      for (String name : type.presets()) {
        owners.putIfAbsent(name, type.getClass());
      }
    }
    return owners;
  }

  /** A preset by name, or else a topology file at that path. */
  public Topology load(String presetOrFile) {
    Class<?> owner = presetOwners().get(presetOrFile);
    if (owner != null) {
      try (InputStream in = owner.getResourceAsStream(PRESETS + presetOrFile + ".json")) {
        if (in == null) {
          throw new IllegalStateException("preset " + presetOrFile + " is listed but missing");
        }
        return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8),
            "preset " + presetOrFile);
      } catch (IOException e) {
        throw new IllegalStateException("cannot read preset " + presetOrFile, e);
      }
    }
    Path file = Path.of(presetOrFile);
    if (!Files.isRegularFile(file)) {
      throw AccrException.usage("topology '%s' is neither a preset (%s) nor a file",
          presetOrFile, String.join(", ", presets()));
    }
    try {
      return parse(Files.readString(file), file.toString());
    } catch (IOException e) {
      throw AccrException.failed("topology %s: %s", file, e.getMessage());
    }
  }

  /**
   * Parses and checks the JSON form; {@code source} names it in errors: a device without one
   * of its type's required fields is refused with exit code 2, a device type that is not
   * installed with exit code 4.
   */
  public Topology parse(String json, String source) {
    Topology.Builder builder = Topology.newBuilder();
    try {
      JsonFormat.parser().merge(json, builder);
    } catch (InvalidProtocolBufferException e) {
      throw AccrException.usage("topology %s; fix the file, or start from 'accr topology show"
          + " PRESET --json'", JsonErrors.describe(source, json, e.getMessage()));
    }
    Topology topology = builder.build();
    validate(topology, source);
    return topology;
  }

  private void validate(Topology t, String source) {
    if (t.getName().isEmpty()) {
      throw AccrException.usage("topology %s: name is empty", source);
    }
    if (t.getCpusCount() == 0) {
      throw AccrException.usage("topology %s: no cpus", source);
    }
    Set<Integer> nodes = new HashSet<>();
    for (CpuNode cpu : t.getCpusList()) {
      if (!nodes.add(cpu.getNode())) {
        throw AccrException.usage("topology %s: node %d is listed twice", source, cpu.getNode());
      }
    }
    Set<Integer> deviceIds = new HashSet<>(); // --device-map names devices by these ids
    for (Device d : t.getDevicesList()) {
      if (!nodes.add(d.getNode())) {
        throw AccrException.usage("topology %s: node %d is listed twice", source, d.getNode());
      }
      DeviceType type = deviceType(d, source);
      for (String field : new TreeSet<>(type.requiredDeviceFields())) {
        if (isZero(d, field)) {
          throw AccrException.usage("topology %s: device at node %d (%s): %s is missing", source,
              d.getNode(), d.getType(), field);
        }
      }
      int id = type.label(d).id();
      if (id != 0 && !deviceIds.add(id)) {
        throw AccrException.usage("topology %s: device id 0x%x is used twice", source, id);
      }
    }
    for (Link l : t.getLinksList()) {
      if (!nodes.contains(l.getFrom()) || !nodes.contains(l.getTo())) {
        throw AccrException.usage("topology %s: link %d->%d names an unknown node", source,
            l.getFrom(), l.getTo());
      }
    }
  }

  private DeviceType deviceType(Device d, String source) {
    if (d.getType().isEmpty()) {
      throw AccrException.usage("topology %s: device at node %d has no type", source, d.getNode());
    }
    DeviceType type = registry.deviceType(d.getType());
    if (type == null) {
      List<String> installed = registry.deviceTypes().stream().map(DeviceType::type).toList();
      throw AccrException.incompatible("topology %s: device at node %d: unknown device type '%s'"
          + " (installed: %s)", source, d.getNode(), d.getType(),
          installed.isEmpty() ? "none" : String.join(", ", installed));
    }
    return type;
  }

  /** Whether the field with JSON name {@code jsonName} has its zero value (proto3: absent). */
  private static boolean isZero(Device d, String jsonName) {
    for (FieldDescriptor f : Device.getDescriptor().getFields()) {
      if (f.getJsonName().equals(jsonName)) {
        return f.isRepeated() ? d.getRepeatedFieldCount(f) == 0
            : f.hasPresence() ? !d.hasField(f) : d.getField(f).equals(f.getDefaultValue());
      }
    }
    throw new IllegalStateException("device type " + d.getType() + " requires field '"
        + jsonName + "', which Device does not have");
  }
}
