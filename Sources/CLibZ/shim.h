// zlib exactly as <zlib.h> declares it (no ZLIB_CONST): ZIPFoundation's CZlib module wraps the same
// header, and two clang modules that disagree on `z_const` cannot both be loaded into one Swift module.
#include <zlib.h>

/// `inflateInit2` is a macro Swift cannot call: this starts a gzip (RFC 1952) decoder.
static inline int pic2vec_inflate_init_gzip(z_stream *stream) { return inflateInit2(stream, 16 + MAX_WBITS); }
