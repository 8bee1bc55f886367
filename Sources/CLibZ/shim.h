// Input buffers are `const` in zlib's prototypes (next_in, msg), so Swift passes read-only bytes as they are.
#define ZLIB_CONST
#include <zlib.h>

/// `inflateInit2` is a macro Swift cannot call: this starts a gzip (RFC 1952) decoder.
static inline int pic2vec_inflate_init_gzip(z_stream *stream) { return inflateInit2(stream, 16 + MAX_WBITS); }
