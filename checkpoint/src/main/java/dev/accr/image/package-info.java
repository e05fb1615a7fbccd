/**
 * The image format: framed files (header, body, checksummed footer), protobuf entry files,
 * chunked bulk-data files, and image-set directories written atomically.
 *
 * <p>Every file starts with the same header and ends with the same footer, written and checked
 * only by {@link dev.accr.image.ImageFraming}:
 *
 * <pre>
 * File   := Header Body Footer
 * Header := magic:int32 'ACCR' | kindLength:byte kind:ascii | version:int32 | id:byte[16]
 * Footer := footerMagic:int32 | algorithm:int32 (0 = CRC32C) | checksum:int64
 * </pre>
 *
 * All integers are big-endian; the checksum covers every byte before the footer. The body is
 * defined by the file's {@link dev.accr.image.ImageKind}.
 */
package dev.accr.image;
