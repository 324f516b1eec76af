# SPDX-License-Identifier: GPL-2.0
#
# rnf: Linux netfilter modules in Rust, built out of tree.
#
#   make                 set up (first run only) and build the modules
#   make KDIR=/path      build against your own prepared, Rust-enabled kernel
#   make modules_install INSTALL_MOD_PATH=<rootfs>
#   make demo            boot the reference kernel in QEMU, load, show tracking
#   make check           every test; ends with "N passed, N failed"
#   make vm-run SCRIPT=path/to/script.sh   run a script in the guest
#   make clean

ARCH ?= x86_64
export ARCH

# Without KDIR, the reference kernel from scripts/setup.sh is used (and
# built on first use into the cache outside the checkout).
ifeq ($(KDIR),)
REF_KERNEL := 1
KDIR = $(shell scripts/setup.sh --arch $(ARCH) --kdir)
endif

KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1

.PHONY: all modules setup modules_install clean check demo vm-run host-test

all: modules

setup:
ifeq ($(REF_KERNEL),1)
	scripts/setup.sh --arch $(ARCH)
endif

modules: setup
	$(KMAKE) modules

modules_install: modules
	$(KMAKE) INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) modules_install

clean:
	-$(KMAKE) clean
	cd rust/rnf_core && cargo clean

host-test:
	cd rust/rnf_core && cargo test

check: modules
	tests/run-all.sh

demo: modules
	scripts/vm/vm-test.sh demo.sh -m rnf_conntrack.ko -m rnf_nat.ko -a loglevel=5

vm-run: modules
	@test -n "$(SCRIPT)" || { echo "usage: make vm-run SCRIPT=path/to/script.sh"; exit 2; }
	scripts/vm/vm-test.sh $(SCRIPT) -m rnf_conntrack.ko -m rnf_nat.ko
