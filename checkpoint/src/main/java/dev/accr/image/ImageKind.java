package dev.accr.image;

import dev.accr.api.CorruptImageException;
import dev.accr.api.Untrusted;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kinds of image file, each with its format name (written in the header), the versions a
 * reader accepts, and the grammar of its body.
 */
public enum ImageKind {
  /** {@code inventory.img}: Entries := InventoryEntry. */
  INVENTORY("inventory", "inventory.img", Body.ENTRIES),
  /** {@code pstree.img}: Entries := PstreeEntry*. */
  PSTREE("pstree", "pstree.img", Body.ENTRIES),
  /** {@code core-<pid>.img}: Entries := CoreEntry. */
  CORE("core", "core-%d.img", Body.ENTRIES),
  /** {@code mm-<pid>.img}: Entries := MmEntry. */
  MM("mm", "mm-%d.img", Body.ENTRIES),
  /** {@code pagemap-<pid>.img}: Entries := PagemapHead PageChunkEntry*. */
  PAGEMAP("pagemap", "pagemap-%d.img", Body.ENTRIES),
  /**
   * {@code pages-<n>.img}: Chunks := Chunk*; Chunk := codec:byte rawLength:int32
   * storedLength:int32 crc32c:int32 payload:byte[storedLength]. The payload decompresses to
   * rawLength bytes; crc32c covers the payload.
   */
  PAGES("pages", "pages-%d.img", Body.CHUNKS),
  /** {@code files.img}: Entries := FileEntry*. */
  FILES("files", "files.img", Body.ENTRIES),
  /** {@code pipes.img}: Entries := PipeEntry*. New in format 5 (absent: no pipes). */
  PIPES("pipes", "pipes.img", Body.ENTRIES),
  /** {@code shmem.img}: Entries := ShmemEntry*. New in format 5 (absent: no shared memory). */
  SHMEM("shmem", "shmem.img", Body.ENTRIES),
  /** {@code stats-dump.img}: Entries := DumpStatsEntry. */
  STATS_DUMP("stats-dump", "stats-dump.img", Body.ENTRIES),
  /**
   * {@code stats-restore.img}: Entries := RestoreStatsEntry. Written into a set after each
   * restore of it (the last one wins), not listed in its inventory: the set stays as dumped.
   * New in format 4.
   */
  STATS_RESTORE("stats-restore", "stats-restore.img", Body.ENTRIES),
  /** {@code <plugin>-<what>-<id>.img}: Entries := (the plugin's own messages)*. */
  PLUGIN("plugin", null, Body.ENTRIES),
  /**
   * {@code <plugin>-<what>-<id>.pagemap.img}: Entries := PluginPagemapHead PluginChunkEntry*,
   * the index of the pages file of the same name.
   */
  PLUGIN_PAGEMAP("plugin-pagemap", null, Body.ENTRIES),
  /**
   * {@code <plugin>-<what>-<id>.pages.img}, and from version 2 its lanes
   * {@code <plugin>-<what>-<id>.pages-<lane>.img}: Chunks, as in {@link #PAGES}.
   */
  PLUGIN_PAGES("plugin-pages", null, Body.CHUNKS);

  /** Names of plugin files: plugin, what, id, and an optional bulk suffix. */
  private static final Pattern PLUGIN_FILE =
      Pattern.compile("([a-z][a-z0-9]*)-([a-z0-9]+(?:-[a-z0-9]+)*)-(\\d{1,18})(\\.pagemap|\\.pages(?:-[1-9][0-9]?)?)?\\.img");

  /** Lanes of one plugin bulk file: .pages.img and .pages-1.img to .pages-63.img. */
  public static final int MAX_LANES = 64;

  /**
   * The body layouts. Entries := (length:varint32 entry:protobuf)*, each length at most the
   * bytes left before the footer.
   */
  public enum Body {
    ENTRIES,
    CHUNKS
  }

  /** The first format version readers of this build accept. */
  public static final int VERSION_START = 1;
  /**
   * The version this build writes. 2: plugin bulk data may span several pages files (lanes),
   * written in parallel. 3: every header names the file it was written as, so that a file
   * copied over another of the same set is refused. 4: a set may name a parent set (an
   * incremental dump) and then stores only what changed since. 5: a set holds a process tree
   * (pstree.img with every process, with its parent, group and session) and what its
   * processes share, each shared object once.
   */
  public static final int VERSION_CURRENT = 5;

  private final String formatName;
  private final String fileNamePattern;
  private final Body body;

  ImageKind(String formatName, String fileNamePattern, Body body) {
    this.formatName = formatName;
    this.fileNamePattern = fileNamePattern;
    this.body = body;
  }

  /** The name written in the header of files of this kind. */
  public String formatName() {
    return formatName;
  }

  public Body body() {
    return body;
  }

  /** The file name, for kinds named by a number (pid or file index). */
  public String fileName(long n) {
    if (fileNamePattern == null) {
      throw new IllegalStateException(formatName + " files are named by their plugin");
    }
    return String.format(fileNamePattern, n);
  }

  /** The file name, for kinds with a single file per set. */
  public String fileName() {
    if (fileNamePattern == null || fileNamePattern.contains("%")) {
      throw new IllegalStateException(formatName + " files are numbered");
    }
    return fileNamePattern;
  }

  /** The kind of a file, from its name; null for names that are not image files of the core. */
  public static ImageKind ofFileName(String name) {
    for (ImageKind kind : values()) {
      String p = kind.fileNamePattern;
      if (p == null) {
        continue;
      }
      int pct = p.indexOf('%');
      if (pct < 0 ? name.equals(p) : matchesNumbered(name, p.substring(0, pct), p.substring(pct + 2))) {
        return kind;
      }
    }
    Matcher m = PLUGIN_FILE.matcher(name);
    if (!m.matches()) {
      return null;
    }
    return m.group(4) == null ? PLUGIN : m.group(4).startsWith(".pages") ? PLUGIN_PAGES : PLUGIN_PAGEMAP;
  }

  /** The parts of a plugin file's name. */
  public record PluginFileName(String plugin, String what, long id) {}

  /** The plugin, what and id of a plugin file's name, or null for other names. */
  public static PluginFileName parsePluginFileName(String name) {
    Matcher m = PLUGIN_FILE.matcher(name);
    return m.matches() && ofFileName(name) != null && ofFileName(name).formatName().startsWith("plugin")
        ? new PluginFileName(m.group(1), m.group(2), Long.parseLong(m.group(3))) : null;
  }

  /** The name of a plugin's file of this kind (one of the PLUGIN kinds). */
  public String pluginFileName(String plugin, String what, long id) {
    String name = plugin + "-" + what + "-" + id + switch (this) {
      case PLUGIN -> "";
      case PLUGIN_PAGEMAP -> ".pagemap";
      case PLUGIN_PAGES -> ".pages";
      default -> throw new IllegalStateException(formatName + " is not a plugin file kind");
    } + ".img";
    if (ofFileName(name) != this) {
      throw new IllegalArgumentException("not a valid plugin file name: " + name);
    }
    return name;
  }

  /** The name of lane {@code lane} of a plugin's pages file; lane 0 is the unnumbered one. */
  public static String pluginLaneFileName(String plugin, String what, long id, int lane) {
    String first = PLUGIN_PAGES.pluginFileName(plugin, what, id);
    if (lane < 0 || lane >= MAX_LANES) {
      throw new IllegalArgumentException("lane " + lane + " is not in 0.." + (MAX_LANES - 1));
    }
    return lane == 0 ? first : first.replace(".pages.img", ".pages-" + lane + ".img");
  }

  /** The kind named {@code formatName} in a header. */
  static ImageKind ofFormatName(String formatName, String file) {
    for (ImageKind kind : values()) {
      if (kind.formatName.equals(formatName)) {
        return kind;
      }
    }
    throw new CorruptImageException(file, "unknown image kind " + Untrusted.quote(formatName));
  }

  /** The number in a numbered file name such as {@code core-42.img}. */
  public long numberOf(String name) {
    int pct = fileNamePattern.indexOf('%');
    String digits = name.substring(pct, name.length() - (fileNamePattern.length() - pct - 2));
    return Long.parseLong(digits);
  }

  private static boolean matchesNumbered(String name, String prefix, String suffix) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)
        || name.length() <= prefix.length() + suffix.length()) {
      return false;
    }
    String digits = name.substring(prefix.length(), name.length() - suffix.length());
    return digits.length() <= 9 && digits.chars().allMatch(Character::isDigit);
  }
}
