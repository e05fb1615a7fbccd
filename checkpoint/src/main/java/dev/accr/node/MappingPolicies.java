package dev.accr.node;

import dev.accr.api.MappingPolicy;
import dev.accr.proto.MappingPolicyInfo;
import java.util.Set;

/** A device mapping policy in the node protocol: the one conversion each way. */
public final class MappingPolicies {
  private MappingPolicies() {}

  public static MappingPolicyInfo toInfo(MappingPolicy policy) {
    return MappingPolicyInfo.newBuilder().putAllDeviceMap(policy.forced())
        .addAllRelax(policy.relaxed()).build();
  }

  public static MappingPolicy fromInfo(MappingPolicyInfo info) {
    return MappingPolicy.of(info.getDeviceMapMap(), Set.copyOf(info.getRelaxList()));
  }
}
