package dev.accr.plugin;

import dev.accr.api.DevicePair;
import dev.accr.proto.DevicePairInfo;

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

  /** {@code kfd 0x1234 -> 0x5678 (vramBytes: image=X target=Y)}, or "(identical)". */
  public static String describe(DevicePair d) {
    return String.format("%s 0x%x -> 0x%x (%s)", d.type(), d.imageId(), d.targetId(),
        d.differences().isEmpty() ? "identical" : String.join("; ", d.differences()));
  }
}
