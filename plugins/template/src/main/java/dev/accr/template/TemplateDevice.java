package dev.accr.template;

import dev.accr.api.DeviceFile;
import java.nio.ByteBuffer;
import java.security.MessageDigest;

/** A process's open {@code /dev/tmpl0}: eight registers the device keeps for it. */
public final class TemplateDevice implements DeviceFile {
  static final int REGISTERS = 8;
  private final long[] registers = new long[REGISTERS];

  @Override
  public String path() {
    return TemplateDeviceType.PATH;
  }

  public synchronized long get(int i) {
    return registers[i];
  }

  public synchronized void set(int i, long value) {
    registers[i] = value;
  }

  @Override
  public synchronized void digest(MessageDigest digest) {
    ByteBuffer b = ByteBuffer.allocate(8 * REGISTERS);
    for (long r : registers) {
      b.putLong(r);
    }
    digest.update(b.flip());
  }

  @Override
  public void close() {}
}
