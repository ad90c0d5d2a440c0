/* SPDX-License-Identifier: Apache-2.0 */
/* `aidc sim`: placeholder until the simulator lands. */
#include "cli/cli.h"
#include "util/util.h"

int cli_sim_main(int argc, char **argv)
{
	fprintf(stderr, "aidc sim: not built yet\n");
	return CLI_EXIT_FAIL;
}
