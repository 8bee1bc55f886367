#ifndef CJPEGDECODE_H
#define CJPEGDECODE_H

#include <stddef.h>

/// What p2v_jpeg_decode reports: the image size, its color model, the RGB pixels, or
/// libjpeg's own message when the file is damaged.
typedef struct {
    /// width * height * 3 bytes (R G B, rows top to bottom), malloc'ed; the caller frees
    /// it. NULL when only the header was read or decoding failed.
    unsigned char *pixels;
    int width;
    int height;
    /// Color channels stored in the file: 1 gray, 3 YCbCr or RGB, 4 CMYK or YCCK.
    int components;
    /// libjpeg's message when the call fails (JMSG_LENGTH_MAX bytes).
    char message[200];
} p2v_jpeg_result;

/// Decodes a JPEG held in memory to 8-bit RGB, or reads only its header.
///
/// libjpeg reports fatal errors through error_exit, which must not return; this wrapper
/// catches them with setjmp/longjmp (which Swift cannot call) and returns -1 with the
/// message instead. Warnings (truncated or corrupt entropy-coded data) count as errors.
/// Gray becomes RGB in libjpeg; CMYK and YCCK (Adobe-inverted or not) are converted here.
///
/// Returns 0 on success, -1 on failure.
int p2v_jpeg_decode(const unsigned char *data, size_t size, int header_only, p2v_jpeg_result *result);

#endif
