#include "CImageCodecs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

/// The bytes libpng reads from, and where the error message goes.
typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
    char *message;
} p2v_png_source;

static void p2v_png_read(png_structp png, png_bytep target, size_t length) {
    p2v_png_source *source = png_get_io_ptr(png);
    if (length > source->size - source->offset) png_error(png, "file is truncated");
    memcpy(target, source->data + source->offset, length);
    source->offset += length;
}

static void p2v_png_error(png_structp png, png_const_charp message) {
    p2v_png_source *source = png_get_error_ptr(png);
    snprintf(source->message, 200, "%s", message);
    png_longjmp(png, 1);
}

static void p2v_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

int p2v_png_decode(const unsigned char *data, size_t size, size_t max_pixels, unsigned char *pixels, size_t capacity,
                   p2v_image_info *info) {
    p2v_png_source source = {data, size, 0, info->message};
    png_bytep *volatile rows = NULL;

    memset(info, 0, sizeof(*info));
    source.message = info->message;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, p2v_png_error, p2v_png_warning);
    png_infop png_info = png ? png_create_info_struct(png) : NULL;
    if (png_info == NULL) {
        snprintf(info->message, sizeof(info->message), "out of memory");
        png_destroy_read_struct(&png, NULL, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &png_info, NULL);
        free(rows);
        return -1;
    }
    png_set_read_fn(png, &source, p2v_png_read);
    png_read_info(png, png_info);
    png_uint_32 width = png_get_image_width(png, png_info), height = png_get_image_height(png, png_info);
    info->width = info->output_width = (int)width;
    info->height = info->output_height = (int)height;
    if (width == 0 || height == 0 || (size_t)width > max_pixels / height) {
        snprintf(info->message, sizeof(info->message), "image is %ux%u, more than the limit of %zu pixels", width, height,
                 max_pixels);
        png_destroy_read_struct(&png, &png_info, NULL);
        return -2;
    }
    if (pixels == NULL) {
        png_destroy_read_struct(&png, &png_info, NULL);
        return 0;
    }
    if (capacity / 3 / width < height) {
        snprintf(info->message, sizeof(info->message), "a %ux%u image does not fit %zu bytes", width, height, capacity);
        png_longjmp(png, 1);
    }

    int color_type = png_get_color_type(png, png_info);
    // Pillow opens 16-bit gray as mode I;16 and converts it to RGB by clipping each sample
    // to 255; other 16-bit types keep their high byte. The gray samples are read as they
    // are and clipped below, in the output rows.
    int gray16 = color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, png_info) == 16;
    if (gray16) png_set_swap(png);
    if (png_get_bit_depth(png, png_info) == 16 && !gray16) png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if ((color_type == PNG_COLOR_TYPE_GRAY && !gray16) || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, png_info);
    if (png_get_rowbytes(png, png_info) != (size_t)width * (gray16 ? 2 : 3)) {
        snprintf(info->message, sizeof(info->message), "unexpected row size after conversion to RGB");
        png_longjmp(png, 1);
    }
    rows = malloc(sizeof(png_bytep) * height);
    if (rows == NULL) {
        snprintf(info->message, sizeof(info->message), "out of memory for a %ux%u image", width, height);
        png_longjmp(png, 1);
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * width * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    if (gray16) {
        // Each row holds `width` native-endian 16-bit samples in its first 2*width bytes;
        // widen in place from the right end, where no unread sample is overwritten.
        for (png_uint_32 y = 0; y < height; y++) {
            unsigned char *row = rows[y];
            for (png_uint_32 x = width; x-- > 0;) {
                uint16_t sample;
                memcpy(&sample, row + 2 * (size_t)x, 2);
                unsigned char value = sample > 255 ? 255 : (unsigned char)sample;
                row[3 * (size_t)x] = row[3 * (size_t)x + 1] = row[3 * (size_t)x + 2] = value;
            }
        }
    }
    png_destroy_read_struct(&png, &png_info, NULL);
    free(rows);
    return 0;
}
