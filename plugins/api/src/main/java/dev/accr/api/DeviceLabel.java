package dev.accr.api;

/**
 * How tools show one device of a topology (API version 4): {@code accr topology show}, the
 * Graphviz picture of {@code topology map --dot} and the topology of {@code inspect --html}.
 * The core adds the device's type and topology node; it knows no device fields.
 *
 * @param id the id users name the device by (in {@code --device-map}), 0 if it has none;
 *     printed in hex
 * @param model a few words for a picture's label, e.g. {@code gfx90a 64 GiB}
 * @param details one line of properties for text output, e.g. {@code gfx90a (90010), 104 CUs,
 *     64 GiB VRAM, numa 0, renderD128}
 */
public record DeviceLabel(int id, String model, String details) {
  public DeviceLabel {
    model = model == null ? "" : model;
    details = details == null ? "" : details;
  }
}
