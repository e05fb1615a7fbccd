package dev.accr.image;

import com.github.luben.zstd.Zstd;
import dev.accr.api.AccrException;

/** How bulk-data chunks are compressed: {@code none}, or {@code zstd} at a level. */
public record Compression(Codec codec, int level) {
  public static final Compression NONE = new Compression(Codec.NONE, 0);
  private static final int DEFAULT_ZSTD_LEVEL = 1;

  /** The codec byte stored with each chunk. */
  public enum Codec {
    NONE(0),
    ZSTD(1);

    final byte id;

    Codec(int id) {
      this.id = (byte) id;
    }

    static Codec ofId(byte id) {
      for (Codec c : values()) {
        if (c.id == id) {
          return c;
        }
      }
      return null;
    }
  }

  /** Parses {@code none}, {@code zstd} or {@code zstd:LEVEL}. */
  public static Compression parse(String spec) {
    if (spec == null || spec.isEmpty() || spec.equals("none")) {
      return NONE;
    }
    if (spec.equals("zstd")) {
      return new Compression(Codec.ZSTD, DEFAULT_ZSTD_LEVEL);
    }
    if (spec.startsWith("zstd:")) {
      int level;
      try {
        level = Integer.parseInt(spec.substring(5));
      } catch (NumberFormatException e) {
        throw AccrException.usage("--compress: level is not a number: '%s'", spec.substring(5));
      }
      if (level < Zstd.minCompressionLevel() || level > Zstd.maxCompressionLevel() || level == 0) {
        throw AccrException.usage("--compress: zstd level %d is out of range [1, %d]", level,
            Zstd.maxCompressionLevel());
      }
      return new Compression(Codec.ZSTD, level);
    }
    throw AccrException.usage("--compress: expected none, zstd or zstd:LEVEL, got '%s'", spec);
  }

  @Override
  public String toString() {
    return codec == Codec.NONE ? "none" : "zstd:" + level;
  }
}
