package dev.accr.plugin;

import dev.accr.api.DevicePair;
import dev.accr.proto.DevicePairInfo;
import java.util.List;

/** Device pairs in the node protocol and as the one line per pair that commands print. */
public final class DevicePairs {
  private DevicePairs() {}

  public static DevicePairInfo toInfo(DevicePair d) {
    return DevicePairInfo.newBuilder().setType(d.type()).setImageId(d.imageId())
        .setImageNode(d.imageNode()).setTargetId(d.targetId()).setTargetNode(d.targetNode())
        .addAllDifferences(d.differences()).build();
  }

  public static DevicePair fromInfo(DevicePairInfo i) {
    return new DevicePair(i.getType(), i.getImageId(), i.getImageNode(), i.getTargetId(),
        i.getTargetNode(), i.getDifferencesList());
  }

  /**
   * {@code kfd 0x1234 -> 0x5678 (identical)}, with up to two differences in full, or the names
   * of the properties that differ.
   */
  public static String describe(DevicePair d) {
    List<String> diffs = d.differences();
    String how = diffs.isEmpty() ? "identical"
        : diffs.size() <= 2 ? String.join("; ", diffs)
        : diffs.size() + " properties differ: " + String.join(", ", diffs.stream()
            .map(s -> s.substring(0, s.indexOf(':'))).toList());
    return String.format("%s 0x%x -> 0x%x (%s)", d.type(), d.imageId(), d.targetId(), how);
  }
}
