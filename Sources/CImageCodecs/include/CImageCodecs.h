#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

#include <stddef.h>

/// What a decode call reports: the image size, the RGB pixels, or the library's own
/// message when the file is damaged.
typedef struct {
    /// width * height * 3 bytes (R G B, rows top to bottom), malloc'ed; the caller frees
    /// it. NULL when only the header was read or decoding failed.
    unsigned char *pixels;
    int width;
    int height;
    /// The library's message when the call fails.
    char message[200];
} p2v_image_result;

/// Decodes a JPEG held in memory to 8-bit RGB with libjpeg(-turbo), or reads only its header.
///
/// libjpeg reports fatal errors through error_exit, which must not return; this wrapper
/// catches them with setjmp/longjmp (which Swift cannot call) and returns -1 with the
/// message instead. Warnings (truncated or corrupt entropy-coded data) count as errors.
/// Gray becomes RGB in libjpeg; CMYK and YCCK (Adobe-inverted or not) are converted here.
///
/// Returns 0 on success, -1 on failure.
int p2v_jpeg_decode(const unsigned char *data, size_t size, int header_only, p2v_image_result *result);

/// Decodes a PNG held in memory to 8-bit RGB with libpng, or reads only its header.
///
/// Palette, gray (any depth), gray+alpha, RGBA and 16-bit images become 8-bit RGB the way
/// Pillow's `convert("RGB")` does it: 16-bit samples keep their high byte, alpha and
/// transparency are dropped, and no gamma correction is applied. libpng errors (bad CRC,
/// truncated data) longjmp back here and return -1 with the message; warnings are ignored.
/// Images of more than `max_pixels` pixels are refused.
///
/// Returns 0 on success, -1 on failure.
int p2v_png_decode(const unsigned char *data, size_t size, int header_only, size_t max_pixels, p2v_image_result *result);

#endif
