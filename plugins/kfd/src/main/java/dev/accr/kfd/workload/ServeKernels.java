package dev.accr.kfd.workload;

import dev.accr.kfd.driver.GpuKernel;
import dev.accr.kfd.driver.KernelContext;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The GPU kernel of {@code kfd-serve}: paged attention over a KV cache split into blocks. Each
 * workgroup handles one work item of the step's list: it writes the KV entry of one token
 * (one page per layer, computed from the token and the weights, which it only reads) into the
 * block its request's block table names for that position; a decode item then attends over all
 * of its request's positions so far and writes the request's next token. Items of one dispatch
 * belong to distinct (request, position) pairs and a decode item reads only its own request's
 * entries, written by earlier dispatches or by itself.
 */
public final class ServeKernels {
  static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG_UNALIGNED;
  static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
  /** Layers of the toy model: a token's KV entry holds one page per layer. */
  static final int LAYERS = 4;
  /** Tokens per KV block. */
  static final int BLOCK_TOKENS = 8;
  static final long ENTRY_BYTES = LAYERS * 4096L;
  static final long BLOCK_BYTES = BLOCK_TOKENS * ENTRY_BYTES;
  /** Block table entries per request (its longest request needs no more). */
  static final int MAX_BLOCKS = 16;
  static final long TABLE_BYTES = MAX_BLOCKS * 8L;
  static final int ITEM_BYTES = 64;
  static final int PREFILL = 1;
  static final int DECODE = 2;
  static final int VOCAB = 32_000;
  /** Floats of a layer-0 page that attention compares (the "keys"). */
  static final int KEY_FLOATS = 64;

  private ServeKernels() {}

  /** Where the KV entry of {@code position} of the request with table {@code table} is. */
  static long entry(long kvBase, MemorySegment tablePage, long tableOffset, long position) {
    long block = tablePage.get(L, tableOffset + (position / BLOCK_TOKENS) * 8);
    return kvBase + block * BLOCK_BYTES + (position % BLOCK_TOKENS) * ENTRY_BYTES;
  }

  /**
   * args: [0] work list (GTT), [1] block tables (CPU-visible VRAM), [2] KV cache base,
   * [3] weights base, [4] bytes per layer of weights, [5] next tokens by slot (GTT).
   */
  public static final class PagedAttention implements GpuKernel {
    public static final int ID = 300;

    @Override
    public int id() {
      return ID;
    }

    @Override
    public String name() {
      return "paged-attention";
    }

    @Override
    public void run(KernelContext ctx, int wg) {
      long itemAt = ctx.arg(0) + (long) wg * ITEM_BYTES;
      MemorySegment items = ctx.readPage(itemAt & ~4095L);
      long base = itemAt & 4095;
      long kind = items.get(L, base);
      long slot = items.get(L, base + 8);
      long position = items.get(L, base + 16);
      long token = items.get(L, base + 24);
      long tableAt = ctx.arg(1) + slot * TABLE_BYTES;
      MemorySegment table = ctx.readPage(tableAt & ~4095L);
      long tableOffset = tableAt & 4095;
      long kv = ctx.arg(2);
      long layerBytes = ctx.arg(4);
      long entry = entry(kv, table, tableOffset, position);
      float scale = 0.5f + Math.floorMod(token, 1000) / 1000f;
      for (int j = 0; j < LAYERS; j++) {
        long page = Math.floorMod(token * 31 + position * 7 + j, layerBytes / 4096);
        MemorySegment w = ctx.readPage(ctx.arg(3) + j * layerBytes + page * 4096);
        MemorySegment out = ctx.page(entry + j * 4096L);
        for (int i = 0; i < 1024; i++) {
          out.setAtIndex(F, i, w.getAtIndex(F, i) * scale + position * 1e-3f);
        }
      }
      if (kind != DECODE) {
        return;
      }
      MemorySegment query = ctx.readPage(entry);
      float acc = 0;
      for (long t = 0; t <= position; t++) {
        MemorySegment key = ctx.readPage(entry(kv, table, tableOffset, t));
        float score = 0;
        for (int i = 0; i < KEY_FLOATS; i++) {
          score += query.getAtIndex(F, i) * key.getAtIndex(F, i);
        }
        acc = acc * 0.5f + score;
      }
      long next = Math.floorMod(Float.floatToRawIntBits(acc) * 0x9E3779B1L >>> 7, VOCAB);
      long outAt = ctx.arg(5) + slot * 8;
      ctx.page(outAt & ~4095L).set(L, outAt & 4095, next);
    }
  }
}
