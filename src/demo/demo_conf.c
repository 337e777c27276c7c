/*
 * demo/demo_conf.c - the demo configuration, embedded: pc_demo_yaml holds the exact bytes of
 * examples/demo.yaml and a final NUL, so `portcullis demo` needs no file on disk and the
 * example users read is the configuration that runs.
 * Owns: the .incbin. The Makefile compiles from the repository root, which is where the
 * assembler resolves the path, and must list examples/demo.yaml as a prerequisite of this
 * object (compiler dependency files do not see .incbin).
 * Does not: parse or check the YAML (config/ does, like any other file).
 */
#include "demo/demo.h"
#include "core/banned.h"

/*
 * Read-only data, a sized object so debuggers and readelf show it. The compiler still emits
 * its own .note.GNU-stack for this file, so the object keeps a non-executable stack; the
 * explicit empty note below states the same for the assembler part.
 */
__asm__(
    ".pushsection .rodata.pc_demo_yaml,\"a\",@progbits\n"
    ".global pc_demo_yaml\n"
    ".type pc_demo_yaml,@object\n"
    ".balign 16\n"
    "pc_demo_yaml:\n"
    ".incbin \"examples/demo.yaml\"\n"
    ".byte 0\n"
    ".size pc_demo_yaml, . - pc_demo_yaml\n"
    ".popsection\n"
    ".pushsection .note.GNU-stack,\"\",@progbits\n"
    ".popsection\n");
