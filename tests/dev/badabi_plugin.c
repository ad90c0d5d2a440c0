/* SPDX-License-Identifier: Apache-2.0 */
/* Test plugin that claims a future ABI version: the loader must refuse it clearly. */
#include <aidc/device.h>

static const struct aidc_device_plugin future = {
	.abi_version = 99,
	.struct_size = sizeof(struct aidc_device_plugin),
	.name = "future",
};

const struct aidc_device_plugin *aidc_device_plugin_entry(uint32_t host_abi)
{
	return &future;
}
