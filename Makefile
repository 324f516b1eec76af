# SPDX-License-Identifier: GPL-2.0
#
# rnf: Linux netfilter modules in Rust, built out of tree.
#
#   make                 set up (first run only) and build the modules (x86_64)
#   make ARCH=arm64      the same for the arm64 reference kernel
#   make KDIR=/path      build against your own prepared, Rust-enabled kernel
#                        (pass its ARCH too if it is not x86_64)
#   make modules_install INSTALL_MOD_PATH=<rootfs>   modules, loader, lists
#   make bundle          the same as a tarball: $(MODDIR)/rnf-bundle-<release>-<arch>.tar.gz
#   make demo            boot the reference kernel in QEMU, load, show tracking
#   make check           every test on x86_64 and arm64 (ARCHS=x86_64 for one);
#                        ends with "N passed, N failed"
#   make check-debug     the same on the debug reference kernel (KASAN,
#                        kmemleak, SLUB debugging): slower, not in CI
#   make vm-run SCRIPT=path/to/script.sh   run a script in the guest
#   make bench           packets per second in the guest: conntrack and rule
#                        tables, the kernel's against rnf's (figures, not tests),
#                        on the reference kernel without lock debugging
#                        (BENCH_VARIANT= for the test kernel itself); under
#                        QEMU icount (instruction counts; BENCH_ICOUNT=0 for
#                        wall-clock time), with a per-function instruction profile
#   make fuzz            fuzz every rnf_core parser and engine on the host (cargo-fuzz)
#   make clean
#
# The .ko files of ARCH end up in $(MODDIR) (build/$(ARCH)/).

ARCH ?= x86_64
export ARCH

# Without KDIR, the reference kernel from scripts/setup.sh is used (and
# built on first use into the cache outside the checkout).
# KVARIANT=NAME: the reference kernel with scripts/kernel/NAME.config merged
# last (its own cache directory and build/$(ARCH)-NAME/).
KVARIANT ?=
ifeq ($(KDIR),)
REF_KERNEL := 1
KDIR = $(shell scripts/setup.sh --arch $(ARCH) $(if $(KVARIANT),--variant $(KVARIANT)) --kdir)
endif

# The architectures `make check` tests: both reference kernels, or the one
# ARCH named on the command line (`make check ARCH=arm64`).
ifeq ($(origin ARCH),command line)
ARCHS ?= $(ARCH)
else
ARCHS ?= x86_64 arm64
endif
export ARCHS

# kbuild (6.12, no MO= yet) writes an external module's objects next to its
# sources, so each ARCH builds in a directory of its own: build/$(ARCH) holds
# a symlink per source file (rebuilt by `tree` on every build) and the objects,
# the generated bindings and the .ko files of that ARCH. rust/rnf_core is one
# directory symlink: nothing is generated there.
BUILDDIR := $(CURDIR)/build
MODDIR := $(BUILDDIR)/$(ARCH)$(if $(KVARIANT),-$(KVARIANT))
TREE_SOURCES = Kbuild $(filter-out %_generated.rs,$(shell find rust -path rust/rnf_core -prune \
	-o -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' \) -print))

KMAKE = $(MAKE) -C $(KDIR) M=$(MODDIR) LLVM=1

.PHONY: bench all modules setup tree print-moddir modules_install clean check check-debug demo vm-run host-test

all: modules

setup:
ifeq ($(REF_KERNEL),1)
	scripts/setup.sh --arch $(ARCH) $(if $(KVARIANT),--variant $(KVARIANT))
endif

tree:
	@mkdir -p $(MODDIR)/rust
	@find $(MODDIR) -xtype l -delete
	@for f in $(TREE_SOURCES); do \
		mkdir -p "$(MODDIR)/$$(dirname "$$f")"; \
		[ "$$(readlink "$(MODDIR)/$$f")" = "$(CURDIR)/$$f" ] || ln -sfn "$(CURDIR)/$$f" "$(MODDIR)/$$f"; \
	done
	@[ -L $(MODDIR)/rust/rnf_core ] || ln -sfn $(CURDIR)/rust/rnf_core $(MODDIR)/rust/rnf_core

print-moddir:
	@echo $(MODDIR)

modules: setup tree
	$(KMAKE) modules

# The firmware layout of scripts/bundle.sh (see there): the .ko files in
# lib/modules/<release>/extra/, the loader, the modules-load.d list, the
# options file and the MANIFEST; installed into a root, or as a tarball.
modules_install: modules
	scripts/bundle.sh --ko-dir $(MODDIR) --install "$(INSTALL_MOD_PATH)"

.PHONY: bundle

# Host fuzzing of rnf_core (packet views, conntrack, NAT rewriting and
# selection, ip_tables blobs of every table), FUZZ_SECONDS per target
# (default 60) or until FUZZ_RUNS executions each:
# make fuzz [FUZZ_SECONDS=60] [FUZZ_RUNS=10000000] [FUZZ_TARGETS="packet conntrack"]
FUZZ_SECONDS ?=
FUZZ_RUNS ?=
FUZZ_TARGETS ?=
.PHONY: fuzz
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) scripts/fuzz.sh $(FUZZ_TARGETS)
bundle: modules
	scripts/bundle.sh --ko-dir $(MODDIR) --out $(MODDIR)

clean:
	rm -rf $(BUILDDIR)
	cd rust/rnf_core && cargo clean

host-test:
	cd rust/rnf_core && cargo test

# tests/run-all.sh builds the modules of each ARCH in ARCHS itself, so that a
# build failure is a FAIL line of that ARCH and the other ARCHS still run.
check:
	tests/run-all.sh

# The same tests on the `debug` variant of the reference kernel
# (scripts/kernel/debug.config): its own kernel cache and build/ARCH-debug/.
check-debug:
	KVARIANT=debug RNF_TIMEOUT_SCALE=$${RNF_TIMEOUT_SCALE:-3} tests/run-all.sh

# The modules the guest gets (vm-test.sh -m), for demo and vm-run.
VM_MODULES = $(foreach m,rnf_conntrack rnf_nat rnf_tables rnf_tables_nat rnf_tables_mangle rnf_tables_raw,-m $(MODDIR)/$(m).ko)

demo: modules
	scripts/vm/vm-test.sh demo.sh $(VM_MODULES) -a loglevel=5

vm-run: modules
	@test -n "$(SCRIPT)" || { echo "usage: make vm-run SCRIPT=path/to/script.sh"; exit 2; }
	scripts/vm/vm-test.sh $(SCRIPT) $(VM_MODULES)

# Packets per second and memory per connection: the kernel's nf_conntrack
# against rnf_conntrack, ip_tables against rnf_tables, in one boot (figures,
# not a test) of the BENCH_VARIANT kernel. See tests/bench/.
BENCH_VARIANT ?= bench
bench:
	$(MAKE) modules KVARIANT=$(BENCH_VARIANT)
	KVARIANT=$(BENCH_VARIANT) MODDIR=$(BUILDDIR)/$(ARCH)$(if $(BENCH_VARIANT),-$(BENCH_VARIANT)) tests/bench/run.sh
