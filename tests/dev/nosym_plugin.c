/* SPDX-License-Identifier: Apache-2.0 */
/* A shared library without the plugin entry point: the loader must say so. */
int aidc_test_not_a_plugin(void);
int aidc_test_not_a_plugin(void)
{
	return 42;
}
