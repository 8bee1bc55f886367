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

int p2v_png_decode(const unsigned char *data, size_t size, int header_only, size_t max_pixels, p2v_image_result *result) {
    p2v_png_source source = {data, size, 0, result->message};
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;

    memset(result, 0, sizeof(*result));
    source.message = result->message;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, p2v_png_error, p2v_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        snprintf(result->message, sizeof(result->message), "out of memory");
        png_destroy_read_struct(&png, NULL, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        return -1;
    }
    png_set_read_fn(png, &source, p2v_png_read);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    result->width = (int)width;
    result->height = (int)height;
    if ((size_t)width * height > max_pixels) {
        snprintf(result->message, sizeof(result->message), "image is %ux%u, more than %zu pixels", width, height, max_pixels);
        png_longjmp(png, 1);
    }
    if (header_only) {
        png_destroy_read_struct(&png, &info, NULL);
        return 0;
    }

    int color_type = png_get_color_type(png, info);
    if (png_get_bit_depth(png, info) == 16) png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 3) {
        snprintf(result->message, sizeof(result->message), "unexpected row size after conversion to RGB");
        png_longjmp(png, 1);
    }
    pixels = malloc((size_t)width * height * 3);
    rows = malloc(sizeof(png_bytep) * height);
    if (pixels == NULL || rows == NULL) {
        snprintf(result->message, sizeof(result->message), "out of memory for a %ux%u image", width, height);
        png_longjmp(png, 1);
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * width * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    result->pixels = pixels;
    return 0;
}
