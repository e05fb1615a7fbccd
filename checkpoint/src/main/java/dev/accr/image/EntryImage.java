package dev.accr.image;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import dev.accr.api.CorruptImageException;
import java.util.ArrayList;
import java.util.List;

/** A decoded entry file: its header and its entries, still as bytes. */
public record EntryImage(String file, ImageFraming.Header header, List<ByteString> entries) {

  /** Parses every entry as one message type. */
  public <T> List<T> parseAll(Parser<T> parser) {
    return parseRange(parser, 0, entries.size());
  }

  /** Parses entries {@code [from, to)} as one message type. */
  public <T> List<T> parseRange(Parser<T> parser, int from, int to) {
    List<T> out = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      out.add(parse(parser, i));
    }
    return out;
  }

  /** Parses entry {@code index}. */
  public <T> T parse(Parser<T> parser, int index) {
    if (index >= entries.size()) {
      throw new CorruptImageException(file, "entries: actual=" + entries.size()
          + " expected more than " + index);
    }
    try {
      return parser.parseFrom(entries.get(index));
    } catch (InvalidProtocolBufferException e) {
      throw new CorruptImageException(file, "entry " + index + " does not parse: "
          + e.getMessage() + " (checksum passed: the file was written wrong)", e);
    }
  }

  /** The one entry of a single-entry file. */
  public <T> T single(Parser<T> parser) {
    if (entries.size() != 1) {
      throw new CorruptImageException(file, "entries: actual=" + entries.size() + " expected=1");
    }
    return parse(parser, 0);
  }
}
