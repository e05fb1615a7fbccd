package dev.accr.kernel;

import static dev.accr.api.FileView.O_CREATE;
import static dev.accr.api.FileView.O_READ;
import static dev.accr.api.FileView.O_WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.accr.api.AccrException;
import dev.accr.api.DeviceDriver;
import dev.accr.api.DeviceFile;
import dev.accr.api.ProcessView;
import java.lang.reflect.Proxy;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTableTest {
  @TempDir Path cwd;
  private final ProcessView owner = (ProcessView) Proxy.newProxyInstance(
      ProcessView.class.getClassLoader(), new Class<?>[] {ProcessView.class}, (proxy, m, args) -> {
        throw new UnsupportedOperationException(m.getName());
      });
  private final List<String> events = new ArrayList<>();
  /** When set, device closes note whether this regular file is still open. */
  private FileChannel regularChannel;
  private final FakeDriver driver = new FakeDriver();
  private FileTable files;

  private FileTable files() {
    if (files == null) {
      files = new FileTable(cwd, owner, path -> driver.handles(path) ? driver : null,
          new KernelIds(), new NodeMemory(), pid -> null, new StepWaits());
    }
    return files;
  }

  @AfterEach
  void close() {
    files().close();
  }

  @Test
  void openGivesTheLowestFreeDescriptorAcrossFilesAndDevices() {
    assertEquals(0, files().open("a", O_WRITE | O_CREATE));
    assertEquals(1, files().openDevice("/dev/fake"));
    assertEquals(2, files().open("b", O_WRITE | O_CREATE));
    files().install(4, cwd.resolve("a"), O_READ, 0);
    assertEquals(3, files().openDevice("/dev/fake"));
    assertEquals(5, files().open("c", O_WRITE | O_CREATE), "4 was taken by install");
    assertEquals(List.of(0, 2, 4, 5), List.copyOf(files().snapshot().keySet()));
    assertEquals(List.of(1, 3), List.copyOf(files().devices().keySet()));
  }

  @Test
  void writesGoAtTheDescriptorsOwnOffsetAndAdvanceIt() throws Exception {
    int a = files().open("out.txt", O_WRITE | O_CREATE);
    int b = files().open("out.txt", O_WRITE);
    files().write(a, bytes("hello "));
    assertEquals(6, files().position(a));
    assertEquals(0, files().position(b), "another descriptor of the file has its own offset");
    files().write(a, bytes("world"));
    files().write(b, bytes("HE"));
    assertEquals(11, files().position(a));
    assertEquals(2, files().position(b));
    assertEquals("HEllo world", Files.readString(cwd.resolve("out.txt")));
    OpenFile f = files().get(a);
    assertEquals(cwd.resolve("out.txt").toAbsolutePath().normalize(), f.path());
    assertEquals(O_WRITE | O_CREATE, f.flags());
    assertEquals(11, f.size());
  }

  @Test
  void pathsAreResolvedAgainstTheWorkingDirectory() throws Exception {
    Files.createDirectories(cwd.resolve("sub"));
    int fd = files().open("sub/../sub/x", O_WRITE | O_CREATE);
    assertEquals(cwd.resolve("sub/x").toAbsolutePath(), files().get(fd).path());
    assertTrue(Files.exists(cwd.resolve("sub/x")));
  }

  @Test
  void missingFilesAreNotFoundUnlessCreatedAndInstallNeverCreates() {
    AccrException e = assertThrows(AccrException.class, () -> files().open("nope", O_WRITE));
    assertEquals(AccrException.NOT_FOUND, e.exitCode());
    assertThrows(AccrException.class,
        () -> files().install(3, cwd.resolve("nope"), O_WRITE | O_CREATE, 0));
    assertFalse(Files.exists(cwd.resolve("nope")));
    assertTrue(files().snapshot().isEmpty());
  }

  @Test
  void installReopensAtAGivenDescriptorAndPositionAndRefusesATakenOne() throws Exception {
    Files.writeString(cwd.resolve("log"), "0123456789");
    files().install(7, cwd.resolve("log"), O_WRITE, 4);
    assertEquals(4, files().position(7));
    files().write(7, bytes("ab"));
    assertEquals("0123ab6789", Files.readString(cwd.resolve("log")));
    assertEquals(6, files().position(7));
    assertThrows(AccrException.class, () -> files().install(7, cwd.resolve("log"), O_WRITE, 0));
    int dev = files().openDevice("/dev/fake");
    assertThrows(AccrException.class, () -> files().install(dev, cwd.resolve("log"), O_WRITE, 0));
    assertEquals(6, files().position(7), "the open descriptor is untouched");
  }

  @Test
  void badDescriptorsFail() {
    assertThrows(AccrException.class, () -> files().write(3, bytes("x")));
    assertThrows(AccrException.class, () -> files().position(3));
    int dev = files().openDevice("/dev/fake");
    assertThrows(AccrException.class, () -> files().write(dev, bytes("x")),
        "a device file is not a regular file");
  }

  @Test
  void deviceFilesAreOpenedThroughTheirDriverAndReachedByType() {
    int fd = files().openDevice("/dev/fake");
    assertSame(owner, driver.openedFor.getFirst(), "the driver learns which process opened it");
    FakeFile file = files().device(fd, FakeFile.class);
    assertEquals("/dev/fake", file.path());
    AccrException wrongType = assertThrows(AccrException.class,
        () -> files().device(fd, OtherFile.class));
    assertTrue(wrongType.getMessage().contains("/dev/fake"), wrongType.getMessage());
    assertThrows(AccrException.class, () -> files().device(fd + 1, FakeFile.class));
    int regular = files().open("r", O_WRITE | O_CREATE);
    assertThrows(AccrException.class, () -> files().device(regular, FakeFile.class));
    AccrException missing = assertThrows(AccrException.class,
        () -> files().openDevice("/dev/none"));
    assertEquals(AccrException.NOT_FOUND, missing.exitCode());
  }

  @Test
  void installDeviceRefusesATakenDescriptorAndClosesTheRefusedFile() {
    files().install(2, writable("f"), O_WRITE, 0);
    FakeFile refused = new FakeFile("refused");
    assertThrows(AccrException.class, () -> files().installDevice(2, refused));
    assertTrue(events.contains("close refused"), "a refused device file is released");
    FakeFile kept = new FakeFile("kept");
    files().installDevice(5, kept);
    assertSame(kept, files().device(5, FakeFile.class));
    assertThrows(AccrException.class, () -> files().installDevice(5, new FakeFile("again")));
    assertEquals(Map.of(5, kept), files().devices());
  }

  @Test
  void closeReleasesDeviceFilesBeforeRegularFiles() throws Exception {
    files().openDevice("/dev/fake");
    int fd = files().open("data", O_WRITE | O_CREATE);
    regularChannel = files().get(fd).channel();
    files().installDevice(9, new FakeFile("restored"));
    files().close();
    assertEquals(List.of("close /dev/fake (files open)", "close restored (files open)"), events);
    assertFalse(regularChannel.isOpen(), "the regular file was closed too");
    assertTrue(files().snapshot().isEmpty() && files().devices().isEmpty());
    assertThrows(AccrException.class, () -> files().position(fd));
  }

  private Path writable(String name) {
    try {
      return Files.writeString(cwd.resolve(name), "");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private class FakeFile implements DeviceFile {
    private final String path;

    FakeFile(String path) {
      this.path = path;
    }

    @Override
    public String path() {
      return path;
    }

    @Override
    public void digest(MessageDigest digest) {}

    @Override
    public void close() {
      events.add("close " + path
          + (regularChannel != null && regularChannel.isOpen() ? " (files open)" : ""));
    }
  }

  private class OtherFile extends FakeFile {
    OtherFile() {
      super("other");
    }
  }

  private class FakeDriver implements DeviceDriver {
    final List<ProcessView> openedFor = new ArrayList<>();

    @Override
    public String type() {
      return "fake";
    }

    @Override
    public boolean handles(String path) {
      return path.equals("/dev/fake");
    }

    @Override
    public DeviceFile open(ProcessView process, String path) {
      openedFor.add(process);
      return new FakeFile(path);
    }

    @Override
    public void close() {}
  }
}
