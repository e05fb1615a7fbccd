package dev.accr.kfd.driver;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable set of 4 KiB pages of one buffer or SVM range, page {@code i} being the page at
 * byte offset {@code i * 4096} from its start: a bitmap of {@link #pages()} bits in 64-bit words
 * (bit {@code i % 64} of word {@code i / 64}), readable as runs of consecutive pages.
 */
public final class PageBitmap {
  private final int pages;
  private final long[] words;

  /** A bitmap over {@code pages} pages from its words (bits beyond {@code pages} are dropped). */
  public PageBitmap(int pages, long[] words) {
    if (pages < 0 || words.length != wordsFor(pages)) {
      throw new IllegalArgumentException(pages + " pages need " + wordsFor(pages) + " words, not "
          + words.length);
    }
    this.pages = pages;
    this.words = words.clone();
    if (pages % 64 != 0) {
      this.words[words.length - 1] &= (1L << (pages % 64)) - 1;
    }
  }

  /** Every one of {@code pages} pages. */
  public static PageBitmap full(int pages) {
    long[] w = new long[wordsFor(pages)];
    Arrays.fill(w, -1L);
    return new PageBitmap(pages, w);
  }

  /** None of {@code pages} pages. */
  public static PageBitmap empty(int pages) {
    return new PageBitmap(pages, new long[wordsFor(pages)]);
  }

  static int wordsFor(int pages) {
    return (pages + 63) / 64;
  }

  /** How many pages the bitmap covers (set or not). */
  public int pages() {
    return pages;
  }

  public boolean contains(int page) {
    return page >= 0 && page < pages && (words[page >>> 6] & (1L << page)) != 0;
  }

  /** How many pages are set. */
  public int count() {
    int n = 0;
    for (long w : words) {
      n += Long.bitCount(w);
    }
    return n;
  }

  public boolean isEmpty() {
    return count() == 0;
  }

  public boolean isFull() {
    return count() == pages;
  }

  /** The words, a copy. */
  public long[] words() {
    return words.clone();
  }

  /** A run of {@code count} consecutive pages from {@code first}. */
  public record Run(int first, int count) {
    /** The byte offset of the run from the start of its buffer or range. */
    public long offset() {
      return (long) first * GpuVm.PAGE;
    }

    public long bytes() {
      return (long) count * GpuVm.PAGE;
    }
  }

  /** The set pages as maximal runs, ascending. */
  public List<Run> runs() {
    return runs(0);
  }

  /**
   * The set pages as runs, ascending, two runs merged when at most {@code maxGap} clear pages
   * lie between them (fewer, larger pieces to copy, at the cost of the gaps' pages).
   */
  public List<Run> runs(int maxGap) {
    List<Run> out = new ArrayList<>();
    int i = nextSet(0);
    while (i >= 0) {
      int j = nextClear(i);
      int next = nextSet(j);
      while (next >= 0 && next - j <= maxGap) {
        j = nextClear(next);
        next = nextSet(j);
      }
      out.add(new Run(i, j - i));
      i = next;
    }
    return out;
  }

  /** The pages set here or in {@code other} (same size). */
  public PageBitmap or(PageBitmap other) {
    if (other.pages != pages) {
      throw new IllegalArgumentException(other.pages + " pages are not " + pages);
    }
    long[] w = words.clone();
    for (int i = 0; i < w.length; i++) {
      w[i] |= other.words[i];
    }
    return new PageBitmap(pages, w);
  }

  private int nextSet(int from) {
    for (int i = from; i < pages; i++) {
      long w = words[i >>> 6] >>> (i & 63);
      if (w != 0) {
        int at = i + Long.numberOfTrailingZeros(w);
        return at < pages ? at : -1;
      }
      i |= 63; // the rest of this word is clear
    }
    return -1;
  }

  private int nextClear(int from) {
    for (int i = from; i < pages; i++) {
      long w = ~words[i >>> 6] >>> (i & 63);
      if (w != 0) {
        return Math.min(pages, i + Long.numberOfTrailingZeros(w));
      }
      i |= 63;
    }
    return pages;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PageBitmap b && b.pages == pages && Arrays.equals(b.words, words);
  }

  @Override
  public int hashCode() {
    return 31 * pages + Arrays.hashCode(words);
  }

  @Override
  public String toString() {
    return count() + "/" + pages + " pages " + runs().stream()
        .map(r -> r.count() == 1 ? "" + r.first() : r.first() + "-" + (r.first() + r.count() - 1))
        .toList();
  }
}
