package dev.accr.kfd.driver;

import dev.accr.api.AccrException;

/**
 * GPU ISA names as compilers spell them ({@code gfx90a}) and as KFD topology reports them
 * ({@code gfxTargetVersion} 90010: major * 10000 + minor * 100 + stepping, the last two as hex
 * digits in the name).
 */
public final class GfxTarget {
  private GfxTarget() {}

  /** {@code gfx908} -> 90008, {@code gfx90a} -> 90010, {@code gfx1030} -> 100300. */
  public static int parse(String context, String name) {
    if (!name.matches("gfx[1-9][0-9]?[0-9a-f][0-9a-f]")) {
      throw AccrException.usage("%s: '%s' is not a gfx target (like gfx90a)", context, name);
    }
    int major = Integer.parseInt(name.substring(3, name.length() - 2));
    int minor = Character.digit(name.charAt(name.length() - 2), 16);
    int stepping = Character.digit(name.charAt(name.length() - 1), 16);
    return major * 10000 + minor * 100 + stepping;
  }

  /** 90010 -> {@code gfx90a}. */
  public static String name(int version) {
    return String.format("gfx%d%x%x", version / 10000, version / 100 % 100, version % 100);
  }
}
