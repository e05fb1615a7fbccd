package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import dev.accr.api.AccrException;
import dev.accr.engine.ImageSet;
import dev.accr.image.ImageKind;
import dev.accr.kernel.Node;
import dev.accr.kernel.SimProcess;
import dev.accr.testkit.Scenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeTry;

/**
 * Well-framed hostile images: small real sets (the checked-in ones of the current format)
 * with the contents of one file changed — a number set to a value near 0, 2^31, 2^32 or
 * 2^63, an entry cut short, extended, dropped or repeated, a file copied over another of its
 * kind — then re-framed with checksums and inventory sizes that agree. {@code accr check}
 * must accept the set or refuse it with exit code 3 naming a file, in one line; a set it
 * accepts must restore and run, or be refused with exit code 3 (what only the restored
 * memory shows, such as the inside of an npu save area, is checked when it is read back) or
 * 4 (an edited program or device this node does not have), or, when the edit turned the set
 * into a valid pre-dump, with exit code 1 as restore refuses every pre-dump; a restored
 * program may then fail with an error of its own.
 * Never another exit code, an unexpected exception, an out-of-memory or a hang.
 *
 * <p>Tries per run: {@code jqwik.tries.default} (40 in the build; see test-images/README.md
 * for a longer run).
 */
class ImageFuzzTest {
  private static final List<String> SETS = List.of("counter", "npu-infer", "kfd-train");
  private static final Duration PER_TRY = Duration.ofSeconds(60);
  /** Steps a restored process may take here: enough to use its devices, not to finish. */
  private static final int STEPS = 40;

  enum Mutation { SET_NUMBER, SET_NESTED_NUMBER, TRUNCATE_ENTRY, EXTEND_ENTRY, DROP_ENTRY,
    REPEAT_ENTRY, COPY_FILE_OVER }

  private Path tmp;

  @BeforeTry
  void makeDir() throws IOException {
    tmp = Files.createTempDirectory("accr-fuzz-");
  }

  @AfterTry
  void removeDir() throws IOException {
    try (Stream<Path> walk = Files.walk(tmp)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Provide
  Arbitrary<Long> numbers() {
    return Arbitraries.oneOf(
        Arbitraries.of(0L, 1L, -1L, 4095L, 4096L, (1L << 31) - 1, 1L << 31, (1L << 32) - 1,
            1L << 32, (1L << 47) - 4096, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1),
        Arbitraries.longs(),
        Arbitraries.longs().between(-8, 8));
  }

  @Property
  void hostileButWellFramedSetsAreRefusedWithExitThreeOrRestored(
      @ForAll @IntRange(max = 2) int setIndex,
      @ForAll @IntRange(max = 63) int fileIndex,
      @ForAll Mutation mutation,
      @ForAll @IntRange(min = 1, max = 16) int field,
      @ForAll @IntRange(max = 7) int entryIndex,
      @ForAll("numbers") long value) throws Exception {
    Path set = ImageEdits.copy(TestSets.CHECKED_IN.resolve("v" + ImageKind.VERSION_CURRENT)
        .resolve(SETS.get(setIndex)), tmp.resolve("set"));
    List<Path> files = entryFiles(set);
    Path file = files.get(fileIndex % files.size());
    if (mutation == Mutation.COPY_FILE_OVER) {
      List<Path> sameKind = files.stream().filter(f -> f != file && kind(f) == kind(file)).toList();
      if (sameKind.isEmpty()) {
        return;
      }
      ImageEdits.copyOver(sameKind.get(entryIndex % sameKind.size()), file);
    } else {
      ImageEdits.rewrite(file, entries -> mutate(entries, mutation, field, entryIndex, value));
    }
    assertTimeoutPreemptively(PER_TRY, () -> checkThenRestore(set));
  }

  private static void checkThenRestore(Path set) throws IOException {
    CliRun checked = accr("check", set.toString());
    if (checked.code() == AccrException.INCOMPATIBLE) {
      // the inventory names a plugin that is not installed: documented as exit code 4
      CheckCommandTest.assertOneLine(checked, AccrException.INCOMPATIBLE, "is not installed");
      return;
    }
    if (checked.code() != 0) {
      CheckCommandTest.assertOneLine(checked, AccrException.CORRUPT, ".img");
      return;
    }
    ImageSet images = ImageSet.read(set);
    try (Node node = new Node("fuzz", images.inventory().getSourceTopology(),
        Scenarios.registry())) {
      SimProcess p;
      try {
        p = Scenarios.restore(node, set);
      } catch (AccrException e) {
        assertEquals(List.of(), node.processes(), "a refused restore leaves nothing");
        if (images.inventory().getPreDump()) {
          // the edit made a valid pre-dump (memory only), which restore refuses as any other
          assertEquals(AccrException.FAILED, e.exitCode(), e.getMessage());
          assertTrue(e.getMessage().contains("is a pre-dump"), e.getMessage());
          return;
        }
        if (e.exitCode() == AccrException.FAILED && e.getMessage().contains("size actual=")) {
          // the edit recorded a larger size for a file outside the set than this machine's file
          // has: refused as CRIU refuses a file of the wrong size (exit 1, nothing created)
          return;
        }
        if (e.exitCode() == AccrException.FAILED
            && e.getMessage().matches("restore: file \\S+ \\(id \\d+\\) is missing")) {
          // the edit pointed a file entry at a path outside the set that this machine does
          // not have: refused as CRIU refuses a missing file (exit 1, nothing created)
          return;
        }
        // an edited program or device may be one this node does not have (exit code 4)
        assertTrue(e.exitCode() == AccrException.CORRUPT
            || e.exitCode() == AccrException.INCOMPATIBLE, "check passed, restore: " + e);
        assertTrue(e.exitCode() != AccrException.CORRUPT || e.getMessage().contains(".img")
            || e.getMessage().contains("npu save area"), e.getMessage());
        return;
      }
      try {
        Scenarios.step(p, STEPS);
      } catch (AccrException programError) {
        // the program itself meets what the edit changed (a descriptor it no longer has):
        // it fails as a real process would, with an error of its own, not of the reader
      }
      node.kill(p.pid());
    }
  }

  private static List<Path> entryFiles(Path set) throws IOException {
    try (Stream<Path> s = Files.list(set)) {
      return s.filter(f -> kind(f) != null && kind(f).body() == ImageKind.Body.ENTRIES)
          .sorted().toList();
    }
  }

  private static ImageKind kind(Path f) {
    return ImageKind.ofFileName(f.getFileName().toString());
  }

  private static List<ByteString> mutate(List<ByteString> entries, Mutation mutation, int field,
      int entryIndex, long value) {
    List<ByteString> out = new ArrayList<>(entries);
    if (out.isEmpty()) {
      out.add(ByteString.EMPTY);
    }
    int i = entryIndex % out.size();
    ByteString e = out.get(i);
    switch (mutation) {
      case SET_NUMBER -> out.set(i, setNumber(e, field, value));
      case SET_NESTED_NUMBER -> out.set(i, setNested(e, field, value));
      case TRUNCATE_ENTRY -> out.set(i, e.substring(0, (int) Math.floorMod(value, e.size() + 1L)));
      case EXTEND_ENTRY -> out.set(i, e.concat(setNumber(ByteString.EMPTY, field, value)));
      case DROP_ENTRY -> out.remove(i);
      case REPEAT_ENTRY -> out.add(i, e);
      case COPY_FILE_OVER -> throw new IllegalStateException("not an entry edit");
    }
    return out;
  }

  private static ByteString setNumber(ByteString entry, int field, long value) {
    UnknownFieldSet fields = parse(entry);
    if (fields == null) {
      return entry;
    }
    return UnknownFieldSet.newBuilder(fields).clearField(field)
        .addField(field, UnknownFieldSet.Field.newBuilder().addVarint(value).build()).build()
        .toByteString();
  }

  /** Sets {@code field} inside the first nested message of the entry (a run, a device...). */
  private static ByteString setNested(ByteString entry, int field, long value) {
    UnknownFieldSet fields = parse(entry);
    if (fields == null) {
      return entry;
    }
    for (var f : fields.asMap().entrySet()) {
      List<ByteString> nested = f.getValue().getLengthDelimitedList();
      if (!nested.isEmpty() && parse(nested.getFirst()) != null) {
        List<ByteString> changed = new ArrayList<>(nested);
        changed.set(0, setNumber(nested.getFirst(), field, value));
        UnknownFieldSet.Field.Builder b = UnknownFieldSet.Field.newBuilder();
        changed.forEach(b::addLengthDelimited);
        return UnknownFieldSet.newBuilder(fields).clearField(f.getKey())
            .addField(f.getKey(), b.build()).build().toByteString();
      }
    }
    return setNumber(entry, field, value);
  }

  private static UnknownFieldSet parse(ByteString bytes) {
    try {
      return UnknownFieldSet.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }
}
