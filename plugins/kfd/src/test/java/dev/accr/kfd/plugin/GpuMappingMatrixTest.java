package dev.accr.kfd.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.DevicePair;
import dev.accr.api.MappingPolicy;
import dev.accr.kfd.KfdNodes;
import dev.accr.kfd.driver.GfxTarget;
import dev.accr.kfd.proto.KfdDeviceEntry;
import dev.accr.proto.Device;
import dev.accr.proto.Link;
import dev.accr.proto.LinkType;
import dev.accr.proto.Topology;
import java.io.IOException;
import java.io.Reader;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The mapping matrix: each file under {@code mapping/} in test resources names a source
 * topology and the GPUs a process used there, a target topology, the user's options, and the
 * expected outcome: the pairs ({@code expect = 0xA=0xB ...}) or a failure whose message
 * contains {@code reason}. The image side is built as a dump on the source would record it.
 */
class GpuMappingMatrixTest {
  static Stream<String> cases() throws IOException, URISyntaxException {
    Path dir = Path.of(GpuMappingMatrixTest.class.getResource("/mapping").toURI());
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".properties"))
          .sorted().toList().stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void mapsAsExpected(String file) throws Exception {
    Properties c = new Properties();
    try (Reader in = Files.newBufferedReader(Path.of(GpuMappingMatrixTest.class
        .getResource("/mapping/" + file).toURI()))) {
      c.load(in);
    }
    Topology source = KfdNodes.topology(c.getProperty("source"));
    Topology target = KfdNodes.topology(c.getProperty("target"));
    ImageGpus image = imageOf(source, ids(c.getProperty("gpus", "")),
        c.getProperty("offload-arch", ""), Long.parseLong(c.getProperty("vram-use-mib", "0")));
    MappingPolicy policy = MappingPolicy.of(forced(c.getProperty("device-map", "")),
        Set.of(c.getProperty("relax", "").split(",")).stream().filter(s -> !s.isBlank())
            .collect(Collectors.toSet()));
    String expect = c.getProperty("expect");
    if (expect.equals("fail")) {
      AccrException e = assertThrows(AccrException.class,
          () -> GpuMapper.map(image, target, policy));
      assertEquals(AccrException.INCOMPATIBLE, e.exitCode(), e.getMessage());
      assertTrue(e.getMessage().contains(c.getProperty("reason")), e.getMessage());
      assertTrue(e.getMessage().startsWith("kfd: "), e.getMessage());
      return;
    }
    List<DevicePair> pairs = GpuMapper.map(image, target, policy);
    String actual = pairs.stream()
        .map(p -> String.format("0x%x=0x%x", p.imageId(), p.targetId()))
        .collect(Collectors.joining(" "));
    assertEquals(expect, actual);
    assertEquals(pairs.size(), pairs.stream().map(DevicePair::targetId).distinct().count());
  }

  /** The GPUs a process used on {@code source}, with peers as a dump there records them. */
  static ImageGpus imageOf(Topology source, List<Integer> used, String offloadArch,
      long vramUseMib) {
    List<Device> gpus = source.getDevicesList().stream()
        .filter(d -> d.getType().equals("kfd") && (used.isEmpty() || used.contains(d.getGpuId())))
        .sorted((a, b) -> Integer.compare(a.getGpuId(), b.getGpuId())).toList();
    Map<Long, LinkType> links = new HashMap<>();
    for (Link l : source.getLinksList()) {
      links.merge(((long) l.getFrom() << 32) | l.getTo(), l.getType(),
          (a, b) -> a == LinkType.XGMI ? a : b);
    }
    List<ImageGpus.ImageGpu> out = new ArrayList<>();
    for (Device d : gpus) {
      KfdDeviceEntry.Builder e = KfdDeviceEntry.newBuilder().setGpuId(d.getGpuId()).setDevice(d);
      for (Device o : gpus) {
        LinkType t = links.get(((long) d.getNode() << 32) | o.getNode());
        if (o != d && t != null) {
          e.addPeers(o.getGpuId());
          if (t == LinkType.XGMI) {
            e.addXgmiPeers(o.getGpuId());
          }
        }
      }
      out.add(new ImageGpus.ImageGpu(e.build(), vramUseMib << 20, 0));
    }
    TreeSet<Integer> isas = new TreeSet<>();
    for (String a : offloadArch.split(",")) {
      if (!a.isBlank()) {
        isas.add(GfxTarget.parse("test", a.strip()));
      }
    }
    return new ImageGpus(out, isas);
  }

  private static List<Integer> ids(String list) {
    return Arrays.stream(list.split(",")).filter(s -> !s.isBlank())
        .map(s -> Integer.decode(s.strip())).toList();
  }

  private static Map<Integer, Integer> forced(String map) {
    Map<Integer, Integer> out = new HashMap<>();
    for (String pair : map.split(",")) {
      if (!pair.isBlank()) {
        String[] kv = pair.split("=");
        out.put(Integer.decode(kv[0].strip()), Integer.decode(kv[1].strip()));
      }
    }
    return out;
  }
}
