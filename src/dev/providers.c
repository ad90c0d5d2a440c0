/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's device providers behind one call (dev_node_discover), used by
 * the agent to say what a node has: "none", "mock:N:MODEL[:VENDOR]" (virtual
 * accelerators for machines without any), "plugin:NAME", which loads a device
 * plugin through the loader (dev.c, the public ABI include/aidc/device.h) and
 * reports what it finds, and "nvml" (every NVIDIA GPU through libnvidia-ml,
 * nvml.c).
 */
#include "dev/dev.h"
#include "util/util.h"

static int mock(const char *spec, struct dev_node_device *out, uint32_t *n, struct aidc_err *e)
{
	char buf[AIDC_MAX_NAME_BYTES];
	snprintf(buf, sizeof buf, "%s", spec);
	char *save = NULL;
	char *cnt = strtok_r(buf, ":", &save);
	char *model = strtok_r(NULL, ":", &save);
	char *vendor = strtok_r(NULL, ":", &save);
	uint32_t k;
	if (!cnt || aidc_parse_u32(cnt, 0, AIDC_MAX_DEVICES_PER_NODE, &k) != 0)
		return aidc_errf(e, AIDC_E_INVAL, "devices 'mock:%s': N must be 0..%u", spec,
				 AIDC_MAX_DEVICES_PER_NODE);
	for (uint32_t i = 0; i < k; i++) {
		snprintf(out[i].vendor, sizeof out[i].vendor, "%s", vendor ? vendor : "mock");
		snprintf(out[i].model, sizeof out[i].model, "%s", model ? model : "mock-a1");
		out[i].mem_mib = 16384;
	}
	*n = k;
	return 0;
}

static int plugin(const char *name, struct dev_node_device *out, uint32_t *n, struct aidc_err *e)
{
	struct dev_plugin p;
	memset(&p, 0, sizeof p);
	int rc = dev_plugin_open(&p, name, NULL, e);
	if (rc)
		return rc;
	uint32_t k = p.ndev < AIDC_MAX_DEVICES_PER_NODE ? p.ndev : AIDC_MAX_DEVICES_PER_NODE;
	for (uint32_t i = 0; i < k; i++) {
		snprintf(out[i].vendor, sizeof out[i].vendor, "%.100s", p.info[i].vendor);
		snprintf(out[i].model, sizeof out[i].model, "%.100s", p.info[i].model);
		out[i].mem_mib = p.info[i].mem_bytes >> 20;
	}
	*n = k;
	dev_plugin_close(&p);
	return 0;
}

int dev_node_discover(const char *spec, struct dev_node_device *out, uint32_t *n,
		      struct aidc_err *e)
{
	*n = 0;
	if (!spec || !*spec || strcmp(spec, "none") == 0)
		return 0;
	if (strncmp(spec, "mock:", 5) == 0)
		return mock(spec + 5, out, n, e);
	if (strncmp(spec, "plugin:", 7) == 0)
		return plugin(spec + 7, out, n, e);
	if (strcmp(spec, "nvml") == 0)
		return dev_nvml_discover(out, n, e);
	return aidc_errf(e, AIDC_E_INVAL,
			 "devices '%s': expected none, mock:N:MODEL[:VENDOR], plugin:NAME or nvml",
			 spec);
}
