#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

#include <stddef.h>

/// What a decode call reports: the declared size, the size of the pixels it writes (smaller
/// than declared when a JPEG is decoded with DCT scaling), or the library's own message.
typedef struct {
    /// The size the file's header declares.
    int width;
    int height;
    /// The size of the decoded pixels: `output_width * output_height * 3` bytes.
    int output_width;
    int output_height;
    /// The library's message when the call fails.
    char message[200];
} p2v_image_info;

/// Reads a JPEG held in memory, decoding it to 8-bit RGB with libjpeg(-turbo).
///
/// With `pixels` NULL only the header is read: `info` gets the declared size and the
/// output size. Otherwise the image is decoded into `pixels` (`capacity` bytes, at least
/// `output_width * output_height * 3`). Call it once without and once with `pixels` to
/// hold a single copy of the image.
///
/// Images declaring more than `max_pixels` pixels are refused before any pixel memory is
/// allocated. When `min_side` is positive and the image is larger, libjpeg's DCT scaling
/// decodes it at 1/2, 1/4 or 1/8 of its size: the smallest scale whose sides are both at
/// least `min_side` (what Pillow's `Image.draft` picks), so memory follows the output.
///
/// libjpeg reports fatal errors through error_exit, which must not return; this wrapper
/// catches them with setjmp/longjmp (which Swift cannot call) and returns -1 with the
/// message instead. Warnings (truncated or corrupt entropy-coded data) count as errors.
/// Gray becomes RGB in libjpeg; CMYK and YCCK (Adobe-inverted or not) are converted here.
///
/// Returns 0 on success, -1 when the data is damaged, -2 when the image is too large.
int p2v_jpeg_decode(const unsigned char *data, size_t size, int min_side, size_t max_pixels, unsigned char *pixels,
                    size_t capacity, p2v_image_info *info);

/// Reads a PNG held in memory, decoding it to 8-bit RGB with libpng; same contract as
/// `p2v_jpeg_decode` except that PNGs are never scaled (the output size is the declared one).
///
/// Palette, gray (any depth), gray+alpha, RGBA and 16-bit images become 8-bit RGB the way
/// Pillow's `convert("RGB")` does it: 16-bit gray samples are clipped to 255 (Pillow's
/// mode I;16), other 16-bit samples keep their high byte, alpha and
/// transparency are dropped, and no gamma correction is applied. libpng errors (bad CRC,
/// truncated data) longjmp back here and return -1 with the message; warnings are ignored.
///
/// Returns 0 on success, -1 when the data is damaged, -2 when the image is too large.
int p2v_png_decode(const unsigned char *data, size_t size, size_t max_pixels, unsigned char *pixels, size_t capacity,
                   p2v_image_info *info);

#endif
