/*
 * fuzz/replay/replay.c - runs a fuzz target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer: `make check` builds every target with the regular compiler and replays its
 * corpus, so the corpus is a regression suite on the shipped build too (STYLE.md 10).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	static uint8_t	buf[1 << 20];
	int		i, n = 0;

	for (i = 1; i < argc; i++) {
		FILE	*f = fopen(argv[i], "rb");
		size_t	 len;

		if (f == NULL) {
			(void)fprintf(stderr, "replay: cannot open %s\n", argv[i]);
			return 1;
		}
		len = fread(buf, 1, sizeof(buf), f);
		(void)fclose(f);
		(void)LLVMFuzzerTestOneInput(buf, len);
		n++;
	}
	(void)printf("replay: %d inputs\n", n);
	return 0;
}
