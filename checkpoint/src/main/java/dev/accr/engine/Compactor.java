package dev.accr.engine;

import com.google.protobuf.MessageLite;
import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.MemoryView;
import dev.accr.image.EntryImageCodec;
import dev.accr.image.ImageKind;
import dev.accr.image.ImageSetWriter;
import dev.accr.image.ProgressListener;
import dev.accr.kernel.AddressSpace;
import dev.accr.kernel.BufferBudget;
import dev.accr.plugin.SetImages;
import dev.accr.proto.ImageFileRef;
import dev.accr.proto.PagemapHead;
import dev.accr.proto.VmaEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Folds a chain of image sets into one full set equal to it: each process's memory rebuilt
 * from every link (each page from the newest link that has it) and stored anew, each plugin's
 * files folded by the plugin (device memory stored incrementally) or copied, and every other
 * file of the last link copied as it is. The result keeps the last link's checkpoint id (it is
 * the same checkpoint), so a later dump whose parent was the last link may name the full set
 * instead.
 */
public final class Compactor {
  /** What a compaction wrote. */
  public record Result(int links, long pages, long bytesWritten) {}

  private Compactor() {}

  /**
   * Writes the chain that ends in {@code last} as one set into {@code out}. Each plugin of the
   * last link folds its own files ({@link AccrPlugin#compactImages}); a chain holding device
   * memory that a plugin stored incrementally and cannot fold is refused.
   */
  public static Result compact(Path last, Path out, DumpOptions options,
      Collection<AccrPlugin> plugins) throws IOException {
    ImageChain chain = ImageChain.read(last);
    ImageSet set = chain.last();
    try (ImageSetWriter writer = ImageSetWriter.create(out, set.id())) {
      int firstPagesFile = 1;
      long pages = 0;
      long bytes = 0;
      for (ImageSet.ProcessImages images : new java.util.TreeMap<>(set.processes()).values()) {
        if (images.pstree().getZombie()) {
          continue; // state only
        }
        PageDumper.Result stored = compact(chain, images, writer, options, firstPagesFile);
        firstPagesFile += stored.pagesFiles();
        pages += stored.pagesScanned() - stored.zeroPages();
        bytes += stored.bytesWritten();
      }
      Set<String> folded = folded(chain, writer, options, plugins);
      for (ImageFileRef ref : set.inventory().getFilesList()) {
        ImageKind kind = ImageKind.ofFileName(ref.getName());
        ImageKind.PluginFileName plugin = ImageKind.parsePluginFileName(ref.getName());
        if (kind != ImageKind.PAGES && kind != ImageKind.PAGEMAP
            && (plugin == null || !folded.contains(plugin.plugin()))) {
          Files.copy(set.dir().resolve(ref.getName()), writer.file(ref.getName()));
        }
      }
      writer.commit(set.inventory().toBuilder().clearParentPath().clearParentId());
      return new Result(chain.links().size(), pages, bytes);
    }
  }

  /**
   * Rebuilds one process's memory from every link (a shared object's pages are its owner's;
   * other mappings of it get none, as in a full dump) and stores it anew, its pages files
   * numbered from {@code firstPagesFile}.
   */
  private static PageDumper.Result compact(ImageChain chain, ImageSet.ProcessImages images,
      ImageSetWriter writer, DumpOptions options, int firstPagesFile) throws IOException {
    int pid = images.pstree().getPid();
    ChainPages pages = new ChainPages(chain, pid);
    try (AddressSpace memory = AddressSpace.standalone()) {
      for (VmaEntry v : images.mm().getVmasList()) {
        if (ProcessCollector.kindOf(v.getKind()) != dev.accr.kernel.Vma.Kind.DEVICE) {
          memory.mapAnonymous(v.getStart(), v.getLength(), v.getProt(), v.getName());
        }
      }
      for (int i = 0; i < chain.links().size(); i++) {
        new PageLoader(chain.links().get(i), options.threads(), ProgressListener.NONE)
            .load(pages.filter(i, (owner, vaddr, source, offset, n) -> {
              if (owner == pid) {
                memory.writePages(vaddr, source, offset, n);
              }
            }));
      }
      PageDumper.Result stored = new PageDumper(options, writer.id(),
          writer.sink(), ProgressListener.NONE,
          BufferBudget.unlimited(), () -> false).numberedFrom(firstPagesFile).dump(memory);
      List<MessageLite> pagemap = new ArrayList<>();
      pagemap.add(PagemapHead.newBuilder().setPid(pid).setPageSize(MemoryView.PAGE_SIZE).build());
      pagemap.addAll(stored.chunks());
      EntryImageCodec.write(writer.file(ImageKind.PAGEMAP.fileName(pid)), ImageKind.PAGEMAP,
          writer.id(), pagemap);
      return stored;
    }
  }

  /**
   * Lets each plugin of the chain write its own files of the full set; returns the names of
   * those that did. One that tracks writes and took part in an incremental link, but cannot
   * fold, refuses the chain.
   */
  private static Set<String> folded(ImageChain chain, ImageSetWriter writer,
      DumpOptions options, Collection<AccrPlugin> plugins) {
    ImageSet set = chain.last();
    Set<String> folded = new TreeSet<>();
    for (AccrPlugin p : plugins) {
      boolean used = chain.links().stream()
          .anyMatch(l -> l.inventory().getPluginsList().contains(p.name()));
      if (!used) {
        continue;
      }
      if (p.compactImages(SetImages.reader(p.name(), set.dir(), set.id()),
          SetImages.writer(p.name(), writer.sink(), writer.id(), options.compression(),
              options.threads()))) {
        folded.add(p.name());
      } else if (chain.incremental() && p.tracksWrites()) {
        throw AccrException.failed("compact: %s holds device memory that plugin %s stored"
            + " incrementally and cannot fold; restore the chain instead", set.dir(), p.name());
      }
    }
    return folded;
  }
}
