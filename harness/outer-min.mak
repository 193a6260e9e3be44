# The outer QEMU's devices (xen-splitlock harness): what virtme-ng's L1
# uses (q35, virtio-9p, virtio-serial, the i6300esb watchdog, the ISA
# serial port that PC selects) and nothing else, to keep its build short.
CONFIG_Q35=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_9P=y
CONFIG_VIRTIO_SERIAL=y
CONFIG_WDT_IB6300ESB=y
# hw/acpi/cxl.c is always built for PC (see xen-emu-min.mak).
CONFIG_PXB=y
CONFIG_PCIE_PORT=y
CONFIG_CXL=y
CONFIG_CXL_MEM_DEVICE=y
# The HPET, which PC has by default ("default y if PC"): L1 Linux gets the
# same timers as under Debian's QEMU.
CONFIG_HPET=y
