package dev.accr.kfd.workload;

import static dev.accr.kfd.workload.GpuProgram.base;
import static dev.accr.kfd.workload.GpuProgram.get;
import static dev.accr.kfd.workload.GpuProgram.gpu;
import static dev.accr.kfd.workload.GpuProgram.kfd;
import static dev.accr.kfd.workload.GpuProgram.noise;
import static dev.accr.kfd.workload.GpuProgram.setGpu;
import static dev.accr.kfd.workload.ServeKernels.BLOCK_TOKENS;
import static dev.accr.kfd.workload.ServeKernels.DECODE;
import static dev.accr.kfd.workload.ServeKernels.ITEM_BYTES;
import static dev.accr.kfd.workload.ServeKernels.PREFILL;
import static dev.accr.kfd.workload.ServeKernels.TABLE_BYTES;
import static dev.accr.kfd.workload.ServeKernels.VOCAB;

import dev.accr.api.MemoryView;
import dev.accr.api.ProcessView;
import dev.accr.kfd.driver.KfdProcess;

/**
 * The host side of {@code kfd-serve} on one GPU, as an inference server's scheduler: request
 * slots, the paged KV cache's blocks and the segments (VRAM buffers of 2 MiB) that hold them,
 * admission of arriving requests, the step's work list, and harvesting the tokens a step
 * produced. Everything lives in the process: slot records, block owners and segment handles in
 * host memory, block tables in CPU-visible VRAM, work list and tokens in GTT.
 */
final class ServeScheduler {
  // Host memory of GPU g's scheduler (KfdServe.SERVE + g * SERVE_BYTES).
  static final long SLOTS = 0;
  static final long SLOT_BYTES = 256;
  static final long SEGMENTS = 0x4000; // per segment: buffer handle (0: none), blocks in use
  static final long OWNERS = 0x8000; // per block: owning slot + 1, or 0
  static final long ARRIVALS = 0x20000; // per slot: the prompt of its request
  // Slot record fields (8-byte words).
  static final int S_STATE = 0; // FREE, PREFILL (admitted this step) or DECODING
  static final int S_REQUEST = 1;
  static final int S_PROMPT = 2;
  static final int S_TARGET = 3; // tokens to generate
  static final int S_GENERATED = 4;
  static final int S_KV_LEN = 5; // positions whose KV entry is written
  static final int S_LAST = 6; // the token to feed next
  static final int S_BLOCKS = 7;
  static final int S_HASH = 8; // of the tokens generated
  static final int S_BLOCK0 = 16;
  static final long FREE = 0;
  static final long PREFILLING = 1;
  static final long DECODING = 2;
  static final int MIN_PROMPT = 4;
  static final int MAX_PROMPT = 64;
  static final int MIN_OUTPUT = 4;
  static final int MAX_OUTPUT = 64;
  static final int SEGMENT_BLOCKS = (int) (KfdServe.SEGMENT / ServeKernels.BLOCK_BYTES);

  private final ProcessView p;
  private final MemoryView m;
  private final KfdProcess kfd;
  private final int g;
  private final int gpuId;
  private final long host;
  private final int slots;
  private final int segments;

  ServeScheduler(ProcessView p, int g) {
    this.p = p;
    this.m = p.memory();
    this.kfd = kfd(p);
    this.g = g;
    this.gpuId = (int) gpu(m, g, GpuProgram.G_ID);
    this.host = KfdServe.SERVE + g * KfdServe.SERVE_BYTES;
    this.slots = (int) get(m, KfdServe.F_REQUESTS);
    this.segments = (int) (get(m, KfdServe.F_KV_BYTES) / KfdServe.SEGMENT);
  }

  long slot(int s, int field) {
    return m.readLong(host + SLOTS + s * SLOT_BYTES + 8L * field);
  }

  private void setSlot(int s, int field, long value) {
    m.writeLong(host + SLOTS + s * SLOT_BYTES + 8L * field, value);
  }

  long segmentHandle(int seg) {
    return m.readLong(host + SEGMENTS + 16L * seg);
  }

  private long segmentUsed(int seg) {
    return m.readLong(host + SEGMENTS + 16L * seg + 8);
  }

  private void setSegment(int seg, long handle, long used) {
    m.writeLong(host + SEGMENTS + 16L * seg, handle);
    m.writeLong(host + SEGMENTS + 16L * seg + 8, used);
  }

  private long owner(int block) {
    return m.readLong(host + OWNERS + 8L * block);
  }

  private void setOwner(int block, long owner) {
    m.writeLong(host + OWNERS + 8L * block, owner);
  }

  /** Takes the tokens of the last step's decode items from GTT into the slots. */
  void harvest() {
    long items = gpu(m, g, KfdServe.G_ITEMS);
    long work = base(g) + KfdServe.WORK;
    for (long i = 0; i < items; i++) {
      if (m.readLong(work + i * ITEM_BYTES) != DECODE) {
        continue;
      }
      int s = (int) m.readLong(work + i * ITEM_BYTES + 8);
      long next = m.readLong(base(g) + KfdServe.OUT + 8L * s);
      setSlot(s, S_KV_LEN, slot(s, S_KV_LEN) + 1);
      setSlot(s, S_LAST, next);
      setSlot(s, S_GENERATED, slot(s, S_GENERATED) + 1);
      setSlot(s, S_HASH, mix(slot(s, S_HASH), next));
      setGpu(m, g, KfdServe.G_TOKENS_HASH, mix(gpu(m, g, KfdServe.G_TOKENS_HASH), next));
    }
  }

  /** Ends the requests that generated all their tokens and frees their blocks. */
  void retire() {
    for (int s = 0; s < slots; s++) {
      if (slot(s, S_STATE) == DECODING && slot(s, S_GENERATED) >= slot(s, S_TARGET)) {
        for (int i = 0; i < slot(s, S_BLOCKS); i++) {
          int block = (int) slot(s, S_BLOCK0 + i);
          setOwner(block, 0);
          int seg = block / SEGMENT_BLOCKS;
          long used = segmentUsed(seg) - 1;
          long handle = segmentHandle(seg);
          if (used == 0) {
            kfd.freeMemory((int) handle); // an empty segment goes back to the GPU
            handle = 0;
          }
          setSegment(seg, handle, used);
        }
        setSlot(s, S_STATE, FREE);
        setGpu(m, g, KfdServe.G_FINISHED, gpu(m, g, KfdServe.G_FINISHED) + 1);
      }
    }
  }

  /**
   * Admits arriving requests into free slots, in arrival order, while the KV cache has blocks
   * for them: a request that does not fit waits (and those behind it).
   */
  void admit(long step, long seed) {
    for (int s = 0; s < slots; s++) {
      if (slot(s, S_STATE) != FREE || noise(seed ^ 0xA11, (step * 64 + s) * 16 + g) < 0) {
        continue; // busy, or no request arrived for this slot
      }
      long request = gpu(m, g, KfdServe.G_NEXT_REQUEST);
      long id = ((long) g << 40) | request;
      int prompt = MIN_PROMPT + (int) bits(seed, id, 1, MAX_PROMPT - MIN_PROMPT + 1);
      int target = MIN_OUTPUT + (int) bits(seed, id, 2, MAX_OUTPUT - MIN_OUTPUT + 1);
      int blocks = (prompt + target + BLOCK_TOKENS - 1) / BLOCK_TOKENS;
      if (!allocate(s, blocks)) {
        return;
      }
      long arrivals = host + ARRIVALS + s * MAX_PROMPT * 8L;
      for (int t = 0; t < prompt; t++) { // the request as it arrived in host memory
        m.writeLong(arrivals + 8L * t, bits(seed, id, 16 + t, VOCAB));
      }
      setSlot(s, S_STATE, PREFILLING);
      setSlot(s, S_REQUEST, id);
      setSlot(s, S_PROMPT, prompt);
      setSlot(s, S_TARGET, target);
      setSlot(s, S_GENERATED, 0);
      setSlot(s, S_KV_LEN, prompt - 1);
      setSlot(s, S_LAST, m.readLong(arrivals + 8L * (prompt - 1)));
      setSlot(s, S_HASH, 0);
      setGpu(m, g, KfdServe.G_NEXT_REQUEST, request + 1);
    }
  }

  /**
   * Gives slot {@code s} {@code n} blocks, lowest first among live segments, then in new
   * segments (VRAM buffers allocated now), and writes its block table through the CPU window.
   */
  private boolean allocate(int s, int n) {
    int free = 0;
    for (int seg = 0; seg < segments; seg++) {
      free += SEGMENT_BLOCKS - (int) segmentUsed(seg);
    }
    if (free < n) {
      return false;
    }
    int taken = 0;
    for (int pass = 0; pass < 2 && taken < n; pass++) {
      for (int seg = 0; seg < segments && taken < n; seg++) {
        boolean live = segmentHandle(seg) != 0;
        if (pass == 0 ? !live : live || segmentUsed(seg) != 0) {
          continue;
        }
        if (!live) {
          setSegment(seg, kfd.allocVram(gpuId, base(g) + KfdServe.KV + seg * KfdServe.SEGMENT,
              KfdServe.SEGMENT, 0), 0);
        }
        for (int b = seg * SEGMENT_BLOCKS; b < (seg + 1) * SEGMENT_BLOCKS && taken < n; b++) {
          if (owner(b) == 0) {
            setOwner(b, s + 1);
            setSegment(seg, segmentHandle(seg), segmentUsed(seg) + 1);
            setSlot(s, S_BLOCK0 + taken, b);
            kfd.cpuWriteLong(base(g) + KfdServe.TABLES + s * TABLE_BYTES + 8L * taken, b);
            taken++;
          }
        }
      }
    }
    setSlot(s, S_BLOCKS, n);
    return true;
  }

  /**
   * Writes the step's work list into GTT: a decode item for each decoding request, then the
   * prefill items (every prompt position but the last) of the requests admitted this step,
   * copied from their arrival in host memory. Returns the number of items.
   */
  int buildWorkList() {
    long work = base(g) + KfdServe.WORK;
    int n = 0;
    for (int s = 0; s < slots; s++) {
      if (slot(s, S_STATE) == DECODING) {
        n = item(work, n, DECODE, s, slot(s, S_KV_LEN), slot(s, S_LAST));
      }
    }
    for (int s = 0; s < slots; s++) {
      if (slot(s, S_STATE) == PREFILLING) {
        long arrivals = host + ARRIVALS + s * MAX_PROMPT * 8L;
        for (int t = 0; t < slot(s, S_PROMPT) - 1; t++) {
          n = item(work, n, PREFILL, s, t, m.readLong(arrivals + 8L * t));
        }
        setSlot(s, S_STATE, DECODING);
      }
    }
    setGpu(m, g, KfdServe.G_ITEMS, n);
    return n;
  }

  private int item(long work, int n, long kind, int s, long position, long token) {
    long at = work + (long) n * ITEM_BYTES;
    m.writeLong(at, kind);
    m.writeLong(at + 8, s);
    m.writeLong(at + 16, position);
    m.writeLong(at + 24, token);
    return n + 1;
  }

  /** What is wrong with this GPU's scheduler state, or null. */
  String problem() {
    int blocks = segments * SEGMENT_BLOCKS;
    for (int s = 0; s < slots; s++) {
      long state = slot(s, S_STATE);
      if (state == FREE) {
        continue;
      }
      long n = slot(s, S_BLOCKS);
      if (state != PREFILLING && state != DECODING || n < 1 || n > ServeKernels.MAX_BLOCKS
          || slot(s, S_KV_LEN) < 0 || slot(s, S_KV_LEN) >= n * BLOCK_TOKENS) {
        return String.format("gpu %d slot %d: state %d, %d blocks, %d positions", g, s, state, n,
            slot(s, S_KV_LEN));
      }
      for (int i = 0; i < n; i++) {
        long b = slot(s, S_BLOCK0 + i);
        if (b < 0 || b >= blocks || owner((int) b) != s + 1
            || segmentHandle((int) b / SEGMENT_BLOCKS) == 0) {
          return String.format("gpu %d slot %d: block %d is not its own", g, s, b);
        }
      }
    }
    for (int seg = 0; seg < segments; seg++) {
      long handle = segmentHandle(seg);
      if (handle != 0 && !kfd.hasBuffer((int) handle, base(g) + KfdServe.KV
          + seg * KfdServe.SEGMENT)) {
        return String.format("gpu %d: KV segment %d names buffer %d, which is not there", g, seg,
            handle);
      }
    }
    return null;
  }

  /** A deterministic number in [0, bound) for field {@code field} of request {@code id}. */
  private static long bits(long seed, long id, int field, long bound) {
    float f = noise(seed ^ id * 0x2545F4914F6CDD1DL, field);
    return Math.min(bound - 1, (long) ((f + 1) / 2 * bound));
  }

  static long mix(long hash, long token) {
    long z = (hash ^ token) * 0x9E3779B97F4A7C15L;
    return z ^ (z >>> 29);
  }
}
