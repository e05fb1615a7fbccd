package dev.accr.engine;

import dev.accr.api.CorruptImageException;
import dev.accr.api.MemoryView;
import dev.accr.api.Untrusted;
import dev.accr.image.CheckpointId;
import dev.accr.image.EntryImage;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.proto.CoreEntry;
import dev.accr.proto.DumpStatsEntry;
import dev.accr.proto.FileEntry;
import dev.accr.proto.ImageFileRef;
import dev.accr.proto.InventoryEntry;
import dev.accr.proto.MmEntry;
import dev.accr.proto.PageChunkEntry;
import dev.accr.proto.PageRun;
import dev.accr.proto.PagemapHead;
import dev.accr.proto.PipeEntry;
import dev.accr.proto.ShmemEntry;
import dev.accr.proto.PstreeEntry;
import dev.accr.proto.ThreadCoreEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The metadata of an image set, read and cross-checked: every file the inventory lists is
 * there with its recorded size, ids match, and entries refer only to things that exist.
 * Bulk data is checked when it is read ({@link PageLoader}).
 */
public final class ImageSet {
  /** The images of one process. */
  public record ProcessImages(PstreeEntry pstree, CoreEntry core, MmEntry mm,
      List<PageChunkEntry> chunks, List<PageRun> zeroRuns) {
    public ProcessImages(PstreeEntry pstree, CoreEntry core, MmEntry mm,
        List<PageChunkEntry> chunks) {
      this(pstree, core, mm, chunks, List.of());
    }
  }

  /** Names of files in a set: no path, no control characters, nothing hidden. */
  private static final Pattern SAFE_FILE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,254}");

  private final Path dir;
  private final CheckpointId id;
  private final InventoryEntry inventory;
  private final Map<Integer, ProcessImages> processes;
  private final Map<Integer, FileEntry> files;
  private final DumpStatsEntry stats;
  private final TreeSet<Integer> pagesFiles;
  private final SharedImages shared;

  private ImageSet(Path dir, CheckpointId id, InventoryEntry inventory,
      Map<Integer, ProcessImages> processes, Map<Integer, FileEntry> files, DumpStatsEntry stats,
      TreeSet<Integer> pagesFiles, SharedImages shared) {
    this.dir = dir;
    this.id = id;
    this.inventory = inventory;
    this.processes = processes;
    this.files = files;
    this.stats = stats;
    this.pagesFiles = pagesFiles;
    this.shared = shared;
  }

  /** The pipes and shared memory the set's processes share (none before format 5). */
  public SharedImages shared() {
    return shared;
  }

  /**
   * A set known by its name, id and inventory alone, none of its files read: the parent of a
   * dump written on another node, where that parent lives.
   */
  public static ImageSet known(Path dir, CheckpointId id, InventoryEntry inventory) {
    return new ImageSet(dir, id, inventory, Map.of(), Map.of(), DumpStatsEntry.getDefaultInstance(),
        new TreeSet<>(), SharedImages.NONE);
  }

  public Path dir() {
    return dir;
  }

  public CheckpointId id() {
    return id;
  }

  public InventoryEntry inventory() {
    return inventory;
  }

  public Map<Integer, ProcessImages> processes() {
    return processes;
  }

  public Map<Integer, FileEntry> files() {
    return files;
  }

  /** The dump statistics, or null when the set has none. */
  public DumpStatsEntry stats() {
    return stats;
  }

  /** Whether the set names a parent set (an incremental dump). */
  public boolean hasParent() {
    return !inventory.getParentPath().isEmpty();
  }

  /** The checkpoint id the parent must have; null when the set has no parent. */
  public CheckpointId parentId() {
    return hasParent() ? CheckpointId.of(inventory.getParentId().toByteArray()) : null;
  }

  /** Numbers n of the set's {@code pages-<n>.img} files. */
  public TreeSet<Integer> pagesFiles() {
    return pagesFiles;
  }

  /** Reads and cross-checks the metadata of the set in {@code dir}. */
  public static ImageSet read(Path dir) throws IOException {
    return read(dir, true);
  }

  /**
   * The set in {@code dir} as a link of a chain a dump extends: its inventory (id, parent
   * link, process), every listed file there with its recorded size, the files and shared
   * memory its processes share; the processes' own images (core, mm, pagemap) are left to
   * whoever reads the chain to restore or check it.
   */
  public static ImageSet readLink(Path dir) throws IOException {
    return read(dir, false);
  }

  private static ImageSet read(Path dir, boolean processImages) throws IOException {
    Path inventoryFile = dir.resolve(ImageKind.INVENTORY.fileName());
    if (!Files.isDirectory(dir)) {
      throw new CorruptImageException(dir.toString(), "not a directory");
    }
    if (!Files.exists(inventoryFile)) {
      throw new CorruptImageException(dir.toString(), "not an image set: no inventory.img");
    }
    EntryImage inv = EntryImageCodec.read(inventoryFile, ImageKind.INVENTORY, null);
    CheckpointId id = inv.header().id();
    InventoryEntry inventory = inv.single(InventoryEntry.parser());
    String invName = inventoryFile.toString();
    if (inventory.getFormatVersion() != inv.header().version()) {
      throw new CorruptImageException(invName, "format version: actual="
          + inventory.getFormatVersion() + " expected=" + inv.header().version());
    }
    checkParentLink(inventory, invName);
    TreeSet<Integer> pagesFiles = new TreeSet<>();
    Map<String, ImageFileRef> listed = new HashMap<>();
    long pagesBytes = 0;
    for (ImageFileRef ref : inventory.getFilesList()) {
      checkListedFile(dir, ref, invName);
      listed.put(ref.getName(), ref);
      if (ImageKind.ofFileName(ref.getName()) == ImageKind.PAGES) {
        pagesFiles.add((int) ImageKind.PAGES.numberOf(ref.getName()));
        pagesBytes += ref.getSize();
      }
    }
    Map<Integer, FileEntry> files = new LinkedHashMap<>();
    for (FileEntry f : readAll(dir, ImageKind.FILES.fileName(), ImageKind.FILES, id, listed)
        .parseAll(FileEntry.parser())) {
      if (files.put(f.getId(), f) != null) {
        throw new CorruptImageException(dir.resolve("files.img").toString(),
            "file id " + f.getId() + " is listed twice");
      }
    }
    SharedImages shared = SharedImages.of(
        readOptional(dir, ImageKind.PIPES, id, listed).parseAll(PipeEntry.parser()),
        readOptional(dir, ImageKind.SHMEM, id, listed).parseAll(ShmemEntry.parser()), dir);
    shared.checkFiles(files, dir);
    Map<Integer, ProcessImages> processes = new LinkedHashMap<>();
    Set<Integer> pids = new HashSet<>();
    for (PstreeEntry p : readAll(dir, ImageKind.PSTREE.fileName(), ImageKind.PSTREE, id, listed)
        .parseAll(PstreeEntry.parser())) {
      if (!pids.add(p.getPid())) {
        throw new CorruptImageException(dir.resolve("pstree.img").toString(),
            "pid " + p.getPid() + " is listed twice");
      }
      if (!processImages) {
        continue;
      }
      ProcessImages images = p.getZombie() ? zombie(p, dir)
          : readProcess(dir, id, p, files, pagesFiles, pagesBytes, listed);
      shared.checkMappings(p.getPid(), images.mm().getVmasList(),
          dir.resolve(ImageKind.MM.fileName(p.getPid())).toString());
      processes.put(p.getPid(), images);
    }
    if (!pids.contains(inventory.getRootPid())) {
      throw new CorruptImageException(invName, "root pid " + inventory.getRootPid()
          + " is not in pstree.img");
    }
    if (!processImages) {
      return new ImageSet(dir, id, inventory, Map.of(), files, null, pagesFiles, shared);
    }
    PstreeChecks.check(processes, inventory.getRootPid(),
        dir.resolve(ImageKind.PSTREE.fileName()).toString());
    shared.checkOwners(processes, files, dir);
    DumpStatsEntry stats = listed.containsKey(ImageKind.STATS_DUMP.fileName())
        ? readAll(dir, ImageKind.STATS_DUMP.fileName(), ImageKind.STATS_DUMP, id, listed)
            .single(DumpStatsEntry.parser())
        : null;
    return new ImageSet(dir, id, inventory, processes, files, stats, pagesFiles, shared);
  }

  private static void checkParentLink(InventoryEntry inventory, String invName) {
    String parent = inventory.getParentPath();
    if (parent.isEmpty()) {
      if (!inventory.getParentId().isEmpty()) {
        throw new CorruptImageException(invName, "a parent id without a parent path");
      }
      return;
    }
    if (parent.length() > 4096 || parent.indexOf('\0') >= 0 || parent.startsWith("/")) {
      throw new CorruptImageException(invName, "parent path " + Untrusted.quote(parent)
          + " is not a relative path");
    }
    if (inventory.getParentId().size() != CheckpointId.LENGTH) {
      throw new CorruptImageException(invName, "parent id: actual=" + inventory.getParentId()
          .size() + " bytes expected=" + CheckpointId.LENGTH);
    }
  }

  private static void checkListedFile(Path dir, ImageFileRef ref, String inventory)
      throws IOException {
    String name = ref.getName();
    if (!SAFE_FILE_NAME.matcher(name).matches()) {
      throw new CorruptImageException(inventory, "illegal file name " + Untrusted.quote(name));
    }
    Path f = dir.resolve(name);
    if (Files.isSymbolicLink(f)) {
      throw new CorruptImageException(f.toString(), "a symbolic link, not a regular file"
          + " (listed in inventory.img)");
    }
    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
      throw new CorruptImageException(f.toString(), "missing file (listed in inventory.img)");
    }
    long size = Files.size(f);
    if (size != ref.getSize()) {
      throw new CorruptImageException(f.toString(), "size: actual=" + size + " expected="
          + ref.getSize() + " (truncated or replaced)");
    }
  }

  private static EntryImage readAll(Path dir, String name, ImageKind kind, CheckpointId id,
      Map<String, ImageFileRef> listed) throws IOException {
    if (!listed.containsKey(name)) {
      throw new CorruptImageException(dir.resolve(name).toString(),
          "not listed in inventory.img");
    }
    return EntryImageCodec.read(dir.resolve(name), kind, id);
  }

  /** A file of the set that older formats do not have: empty when not listed. */
  private static EntryImage readOptional(Path dir, ImageKind kind, CheckpointId id,
      Map<String, ImageFileRef> listed) throws IOException {
    return listed.containsKey(kind.fileName()) ? readAll(dir, kind.fileName(), kind, id, listed)
        : new EntryImage(dir.resolve(kind.fileName()).toString(), null, List.of());
  }

  /** A zombie has no images of its own: no threads, no memory, no files. */
  private static ProcessImages zombie(PstreeEntry p, Path dir) {
    if (p.getThreadsCount() != 0) {
      throw new CorruptImageException(dir.resolve(ImageKind.PSTREE.fileName()).toString(),
          "pid " + p.getPid() + ": a zombie with threads");
    }
    return new ProcessImages(p, CoreEntry.newBuilder().setPid(p.getPid()).build(),
        MmEntry.newBuilder().setPid(p.getPid()).build(), List.of());
  }

  private static ProcessImages readProcess(Path dir, CheckpointId id, PstreeEntry p,
      Map<Integer, FileEntry> files, TreeSet<Integer> pagesFiles, long pagesBytes,
      Map<String, ImageFileRef> listed) throws IOException {
    int pid = p.getPid();
    String coreName = ImageKind.CORE.fileName(pid);
    CoreEntry core = readAll(dir, coreName, ImageKind.CORE, id, listed).single(CoreEntry.parser());
    String coreFile = dir.resolve(coreName).toString();
    if (core.getPid() != pid) {
      throw new CorruptImageException(coreFile, "pid: actual=" + core.getPid() + " expected=" + pid);
    }
    if (core.getThreadsCount() == 0
        || !core.getThreadsList().stream().map(ThreadCoreEntry::getTid).toList()
            .equals(p.getThreadsList())) {
      throw new CorruptImageException(coreFile, "threads do not match pstree.img");
    }
    ImageChecks.checkCore(core, files, coreFile);
    String mmName = ImageKind.MM.fileName(pid);
    MmEntry mm = readAll(dir, mmName, ImageKind.MM, id, listed).single(MmEntry.parser());
    ImageChecks.checkMm(mm, pid, dir.resolve(mmName).toString());
    String pagemapName = ImageKind.PAGEMAP.fileName(pid);
    EntryImage pagemap = readAll(dir, pagemapName, ImageKind.PAGEMAP, id, listed);
    PagemapHead head = pagemap.parse(PagemapHead.parser(), 0);
    String pagemapFile = dir.resolve(pagemapName).toString();
    if (head.getPid() != pid || head.getPageSize() != MemoryView.PAGE_SIZE) {
      throw new CorruptImageException(pagemapFile, "head: pid=" + head.getPid() + " pageSize="
          + head.getPageSize() + " expected pid=" + pid + " pageSize=" + MemoryView.PAGE_SIZE);
    }
    // Each chunk record takes at least 14 bytes of a pages file: a pagemap that announces more
    // chunks than the pages files can hold is refused before its entries are parsed.
    long chunkCount = pagemap.entries().size() - 1L;
    if (chunkCount > pagesBytes / ImageChecks.MIN_CHUNK_RECORD) {
      throw new CorruptImageException(pagemapFile, "chunks: actual=" + chunkCount
          + " expected<=" + pagesBytes / ImageChecks.MIN_CHUNK_RECORD + " (pages files hold "
          + pagesBytes + " bytes)");
    }
    List<PageChunkEntry> chunks = pagemap.parseRange(PageChunkEntry.parser(), 1,
        pagemap.entries().size());
    ImageChecks.checkChunks(chunks, mm, pagesFiles, pagemapFile);
    ImageChecks.checkZeroRuns(head.getZeroRunsList(), mm, pagemapFile);
    return new ProcessImages(p, core, mm, chunks, head.getZeroRunsList());
  }
}
