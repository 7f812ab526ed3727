/* text: small pure helpers on program output. */
#ifndef HERACRON_TEXT_H
#define HERACRON_TEXT_H

#include <stddef.h>

/* The last line of buf[0..len) (trailing line ends dropped) into out,
 * cut to cap - 1 bytes and at a NUL; returns its length. */
size_t text_last_line(const char *buf, size_t len, char *out, size_t cap);

#endif
