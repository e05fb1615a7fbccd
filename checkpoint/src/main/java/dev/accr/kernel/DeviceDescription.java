package dev.accr.kernel;

import dev.accr.api.DeviceFile;

/** An open device file: the driver's object, closed when its last descriptor goes. */
public final class DeviceDescription extends FileDescription {
  private final DeviceFile file;

  DeviceDescription(long id, DeviceFile file) {
    super(id);
    this.file = file;
  }

  public DeviceFile file() {
    return file;
  }

  @Override
  void closeLast() {
    file.close();
  }

  /** Device files are not inherited by fork: a child opens its own devices. */
  @Override
  boolean inheritedByFork() {
    return false;
  }

  @Override
  public String describe() {
    return file.path();
  }
}
