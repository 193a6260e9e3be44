# Smallest x86_64 device set with QEMU's Xen emulation (xen-splitlock harness).
CONFIG_I440FX=y
CONFIG_XEN_EMU=y
CONFIG_XEN_BUS=y
# hw/acpi/cxl.c is always built for PC and needs cxl_fmws_get_all_sorted(),
# which hw/cxl/cxl-host-stubs.c lacks: build the real CXL code instead
# (an upstream link bug in this configuration, not part of the series).
CONFIG_PCI_EXPRESS=y
CONFIG_PXB=y
CONFIG_PCIE_PORT=y
CONFIG_CXL=y
CONFIG_CXL_MEM_DEVICE=y
