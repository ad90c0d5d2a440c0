/* SPDX-License-Identifier: Apache-2.0 */
/* `aidc exam`: placeholder until the exam harness lands. */
#include "cli/cli.h"
#include "util/util.h"

int cli_exam_main(int argc, char **argv)
{
	fprintf(stderr, "aidc exam: not built yet\n");
	return CLI_EXIT_FAIL;
}
