// stb_image and stb_image_write, compiled here once for io/image.cpp (their
// own file, so that a build can check it apart from invkit's code: the fuzz
// build runs stb under AddressSanitizer only, docs/fuzzing.md).
#include <cstdlib>

// Only the decoders of the formats invkit reads (docs/convert.md): every
// other one is code that a file with the wrong name could reach.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
// Zeroed allocations: stb 2.27 leaves fields of its JPEG decoder's state
// uninitialized, so a corrupt file decoded differently from run to run
// (2.28 zeroes that state; found by fuzzing, an assertion in
// stbi__jpeg_huff_decode that fired only on some runs).
#define STBI_MALLOC(size) std::calloc(1, size)
#define STBI_REALLOC(p, size) std::realloc(p, size)
#define STBI_FREE(p) std::free(p)
#include <stb_image.h>
#include <stb_image_write.h>
