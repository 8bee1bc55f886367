#include "CImageCodecs.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

/// A libjpeg error manager that jumps back to p2v_jpeg_decode instead of exiting.
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
} p2v_error_manager;

static void p2v_error_exit(j_common_ptr cinfo) {
    p2v_error_manager *manager = (p2v_error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, manager->message);
    longjmp(manager->jump, 1);
}

/// Warnings (level -1) mean damaged data: treat them as errors; ignore trace messages.
static void p2v_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0) p2v_error_exit(cinfo);
}

/// Converts one CMYK scanline to RGB; Adobe files store the channels inverted.
static void p2v_cmyk_to_rgb(const JSAMPLE *cmyk, unsigned char *rgb, JDIMENSION width, int inverted) {
    for (JDIMENSION x = 0; x < width; x++) {
        unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
        if (!inverted) {
            c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k;
        }
        rgb[3 * x] = (unsigned char)((c * k + 127) / 255);
        rgb[3 * x + 1] = (unsigned char)((m * k + 127) / 255);
        rgb[3 * x + 2] = (unsigned char)((y * k + 127) / 255);
    }
}

/// The DCT scale denominator (1, 2, 4 or 8) Pillow's draft mode picks: the largest whose
/// output keeps both sides at least `min_side`.
static unsigned p2v_scale_denominator(JDIMENSION width, JDIMENSION height, int min_side) {
    unsigned denominator = 1;
    if (min_side <= 0) return 1;
    while (denominator < 8 && (width / (denominator * 2)) >= (unsigned)min_side &&
           (height / (denominator * 2)) >= (unsigned)min_side)
        denominator *= 2;
    return denominator;
}

int p2v_jpeg_decode(const unsigned char *data, size_t size, int min_side, size_t max_pixels, unsigned char *pixels,
                    size_t capacity, p2v_image_info *info) {
    struct jpeg_decompress_struct cinfo;
    p2v_error_manager manager;
    JSAMPLE *volatile cmyk_row = NULL;

    memset(info, 0, sizeof(*info));
    cinfo.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = p2v_error_exit;
    manager.base.emit_message = p2v_emit_message;
    manager.message = info->message;
    if (setjmp(manager.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(cmyk_row);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    info->width = (int)cinfo.image_width;
    info->height = (int)cinfo.image_height;
    if (cinfo.image_width == 0 || cinfo.image_height == 0 ||
        (size_t)cinfo.image_width > max_pixels / cinfo.image_height) {
        snprintf(info->message, sizeof(info->message), "image is %ux%u, more than the limit of %zu pixels",
                 cinfo.image_width, cinfo.image_height, max_pixels);
        jpeg_destroy_decompress(&cinfo);
        return -2;
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    cinfo.scale_num = 1;
    cinfo.scale_denom = p2v_scale_denominator(cinfo.image_width, cinfo.image_height, min_side);
    jpeg_calc_output_dimensions(&cinfo);
    size_t width = cinfo.output_width, height = cinfo.output_height;
    info->output_width = (int)width;
    info->output_height = (int)height;
    if (pixels == NULL) {
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    if (capacity / 3 / width < height) {
        snprintf(info->message, sizeof(info->message), "a %zux%zu image does not fit %zu bytes", width, height, capacity);
        longjmp(manager.jump, 1);
    }
    jpeg_start_decompress(&cinfo);
    if (cmyk) cmyk_row = malloc(width * 4);
    if (cmyk && cmyk_row == NULL) {
        snprintf(info->message, sizeof(info->message), "out of memory for a %zux%zu image", width, height);
        longjmp(manager.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        unsigned char *target = pixels + (size_t)cinfo.output_scanline * width * 3;
        JSAMPROW row = cmyk ? cmyk_row : target;
        jpeg_read_scanlines(&cinfo, &row, 1);
        if (cmyk) p2v_cmyk_to_rgb(cmyk_row, target, cinfo.output_width, cinfo.saw_Adobe_marker);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(cmyk_row);
    return 0;
}
