/* SPDX-License-Identifier: MIT */
/* drivers.c - the order drivers are probed in. */
#include "drivers/drivers.h"

void drivers_init(void)
{
    ide_probe();
    virtio_blk_probe();
}
