package dev.accr.kernel;

import static dev.accr.testkit.ImageDamage.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceLabel;
import dev.accr.api.DeviceType;
import dev.accr.api.NodeContext;
import dev.accr.engine.TopologyJson;
import dev.accr.proto.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Topology files checked against the device types of a registry, and their file form
 * ({@link TopologyJson}).
 */
class TopologiesTest {
  @TempDir Path tmp;

  /** A device type with an id and memory, of which the id is required. */
  private record Accel(String type) implements DeviceType {
    @Override
    public DeviceDriver attach(NodeContext node, List<Device> devices) {
      throw new UnsupportedOperationException();
    }

    @Override
    public DeviceLabel label(Device d) {
      return new DeviceLabel(d.getGpuId(), "", "");
    }

    @Override
    public Set<String> deviceFields() {
      return Set.of("gpuId", "vramBytes", "cuCount");
    }

    @Override
    public Set<String> requiredDeviceFields() {
      return Set.of("gpuId");
    }
  }

  private final Registry registry = Registry.of(List.of(), List.of(new Accel("acc")), List.of());
  private final Topologies topologies = registry.topologies();

  private static final String CPU = "\"cpus\": [{\"node\": 0, \"cores\": 2, \"memoryBytes\": \"1024\"}]";

  @Test
  void aDeviceWithoutARequiredFieldIsRefusedNamingFileNodeAndField() throws Exception {
    Path file = tmp.resolve("t.json");
    Files.writeString(file, "{\"name\": \"t\", " + CPU
        + ", \"devices\": [{\"type\": \"acc\", \"node\": 1, \"vramBytes\": \"4096\"}]}");
    assertFails(AccrException.USAGE, "topology " + file + ": device at node 1 (acc): gpuId is"
        + " missing", "no gpuId", () -> topologies.load(file.toString()));
  }

  @Test
  void anUnknownDeviceTypeIsRefusedListingTheInstalledOnes() {
    assertFails(AccrException.INCOMPATIBLE, "unknown device type 'gpu' (installed: acc)", "type",
        () -> topologies.parse("{\"name\": \"t\", " + CPU
            + ", \"devices\": [{\"type\": \"gpu\", \"node\": 1, \"gpuId\": 5}]}", "t"));
  }

  @Test
  void twoDevicesWithOneIdAreRefused() {
    assertFails(AccrException.USAGE, "device id 0x5 is used twice", "ids",
        () -> topologies.parse("{\"name\": \"t\", " + CPU + ", \"devices\": ["
            + "{\"type\": \"acc\", \"node\": 1, \"gpuId\": 5},"
            + "{\"type\": \"acc\", \"node\": 2, \"gpuId\": 5}]}", "t"));
  }

  @Test
  void theFileFormPrintsEachTypesFieldsWithZerosAndReadsBack() {
    var t = topologies.parse("{\"name\": \"a=b\", " + CPU + ", \"devices\": ["
        + "{\"type\": \"acc\", \"node\": 1, \"gpuId\": 5}],"
        + " \"links\": [{\"from\": 0, \"to\": 1, \"type\": \"PCIE\"}]}", "t");
    String json = TopologyJson.of(t, registry);
    assertEquals(t, topologies.parse(json, "printed"));
    assertTrue(json.contains("\"cuCount\": 0") && json.contains("\"vramBytes\": \"0\""), json);
    assertTrue(json.contains("\"weight\": 0"), json);
    assertFalse(json.contains("npuId") || json.contains("sdmaEngines"), json);
    assertTrue(json.contains("\"name\": \"a=b\""), json);
    assertEquals(1, json.split("\"devices\"", -1).length - 1, json);
  }

  @Test
  void aTopologyWithoutDevicesPrintsAnEmptyListAndReadsBack() {
    var t = topologies.load("cpu-2numa");
    String json = TopologyJson.of(t, registry);
    assertEquals(t, topologies.parse(json, "printed"));
    assertTrue(json.contains("\"devices\": []"), json);
    assertEquals(1, json.split("\"devices\"", -1).length - 1, json);
  }
}
