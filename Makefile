# Two commands for a fresh Debian 12 machine, as root:
#   make acceptance   the whole acceptance suite on the embedded lab, with its report
#   make test         the project's own tests (the slow `lab` ones included)
# Each installs what it needs: Debian packages through apt, Python packages into .venv.
#   make acceptance MANAGER=pacemaker   the same suite on Corosync + Pacemaker with SBD
#   fencing (MANAGER=heartbeat, the article's, is the default; lab/README.md)
#   make acceptance BUILD=article-text  the suite on a cluster built by the article's own
#   text, not by the suite's provisioning; BUILD=pcs one set up with pcs as Clusters from
#   Scratch does; BUILD=site-access one reached as a site allows (lab/builds/; lab/README.md)

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
PYTEST  := $(VENV)/bin/pytest
# mmdebstrap..openssh-client: the lab; nasm: the demo guest; chromium: the report's page test
APT_PACKAGES := mmdebstrap qemu-system-x86 qemu-utils e2fsprogs iproute2 openssh-client \
                nasm chromium ca-certificates
APT_STAMP := $(VENV)/.apt-installed
PIP_STAMP := $(VENV)/.pip-installed
INVENTORY ?= $(or $(HA_LAB_STATE),/var/lib/ha-lab)/inventory.yaml
REPEAT ?= 1
# the cluster manager the lab's nodes run: heartbeat (the article's) or pacemaker
MANAGER ?= heartbeat
# what the lab's nodes are built into: the suite's provisioning for MANAGER, or a foreign
# build (lab/builds/<name>/)
BUILD ?= $(MANAGER)

.PHONY: acceptance soak test test-fast test-lab test-long test-builds venv deps lab-up lab-down lint trend bench clean \
        vagrant-box vagrant-up vagrant-acceptance vagrant-down

venv: $(PIP_STAMP)

$(PIP_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the dependencies are those of pyproject.toml, read with tomllib (no build step)
	$(PY) -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
	  print('\n'.join(p['dependencies'] + p['optional-dependencies']['dev']))" \
	  > $(VENV)/requirements.txt
	$(PY) -m pip install -q -r $(VENV)/requirements.txt
	touch $@

deps: $(APT_STAMP)

$(APT_STAMP): Makefile
	@test "$$(id -u)" = 0 || { echo "make: the lab needs root (apt, namespaces, taps)"; exit 1; }
	mkdir -p $(VENV)
	DEBIAN_FRONTEND=noninteractive apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(APT_PACKAGES)
	touch $@

lab-up: deps venv
	$(PY) -m lab up --build $(BUILD)

lab-down: venv
	$(PY) -m lab down

# The acceptance suite on the embedded lab: up (from the provisioned-baseline snapshot
# when its key matches, lab/README.md), else provision and save the snapshot; then every
# control and the report under reports/ (reports/latest). The setup's phases (lab up,
# snapshot, calibration, provisioning) go to the report through HA_SETUP_PHASES.
# MANAGER=pacemaker: the nodes run Corosync + Pacemaker with SBD fencing; switching manager
# starts from that manager's snapshot, or from blank nodes that the suite provisions.
SETUP_PHASES ?= /var/lib/ha-lab/setup-phases.json
acceptance: lab-up
	$(PY) -m lab snapshot save --if-provisioning
	@for i in $$(seq $(REPEAT)); do \
	  HA_SETUP_PHASES=$(SETUP_PHASES) $(PYTEST) suites/ --inventory $(INVENTORY) \
	    -p no:cacheprovider || status=$$?; \
	done; \
	if [ $(REPEAT) -gt 1 ]; then $(PY) -m fixtures.report trend reports/; fi; \
	exit $${status:-0}

# N whole runs back to back (lab up, snapshot, suite), every report kept under
# reports/soak-<stamp>/, then the trend. HOG=k: a CPU hog pinned to core 1 (the noisy CI
# neighbour) during the last k runs, from before lab up (the calibration sees it too).
N ?= 5
HOG ?= 0
soak: deps venv
	@dir=reports/soak-$$(date -u +%Y%m%dT%H%M%SZ); hog=; \
	trap '[ -n "$$hog" ] && kill $$hog 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq $(N)); do \
	  if [ $$i -gt $$(( $(N) - $(HOG) )) ]; then \
	    taskset -c 1 sh -c 'while :; do :; done' & hog=$$!; \
	    echo "soak $$i/$(N): CPU hog pid $$hog on core 1"; \
	  else echo "soak $$i/$(N)"; fi; \
	  { $(PY) -m lab up --build $(BUILD) && $(PY) -m lab snapshot save --if-provisioning && \
	    HA_SETUP_PHASES=$(SETUP_PHASES) $(PYTEST) suites/ --inventory $(INVENTORY) \
	      -p no:cacheprovider --reports-dir $$dir; } || status=$$?; \
	  if [ -n "$$hog" ]; then kill $$hog; wait $$hog 2>/dev/null; hog=; fi; \
	done; \
	$(PY) -m fixtures.report trend $$dir; \
	exit $${status:-0}

# The project's own tests: pure ones first (fast), then the lab ones (slow, boot VMs).
# pytest exits 5 when a selection holds no test: not a failure of the project.
NO_TESTS_OK := || [ $$? -eq 5 ]
# the modules' doctests run with the pure tests
DOCTESTS := --doctest-modules fixtures lab
test: deps venv
	$(PYTEST) tests/ -m "not lab" -q $(NO_TESTS_OK)
	$(PYTEST) $(DOCTESTS) -m "not lab" -q $(NO_TESTS_OK)
	$(PYTEST) tests/ -m "lab and not long and not builds" -q -x $(NO_TESTS_OK)

# the whole migration rehearsal (about an hour of lab time)
test-long: deps venv
	$(PYTEST) tests/ -m long -v -x

# the suite on clusters it did not build (lab/builds/: the article's text, a site's access),
# each from blank nodes (about 15 min a build on TCG)
test-builds: deps venv
	$(PYTEST) tests/ -m builds -v

test-fast: venv
	$(PYTEST) tests/ -m "not lab" -q
	$(PYTEST) $(DOCTESTS) -m "not lab" -q

test-lab: deps venv
	$(PYTEST) tests/ -m lab -v -x

# ruff, then the suites' control markers against fixtures/controls.yaml (each id known,
# disruptive exactly when its control is)
lint: venv
	$(VENV)/bin/ruff check .
	$(PY) -m fixtures.controls suites

trend: venv
	$(PY) -m fixtures.report trend reports/

# Two runs side by side (run dirs, run names under reports/, or latest):
#   make compare BEFORE=lab-20261125T101500Z [AFTER=latest]
.PHONY: compare
AFTER ?= latest
compare: venv
	@test -n "$(BEFORE)" || { echo "make compare: BEFORE=<run dir or run name> is required"; exit 2; }
	$(PY) -m fixtures.report compare "$(BEFORE)" "$(AFTER)"

# The rehearsed migration Heartbeat -> Corosync + Pacemaker on the lab (lab/rehearse.py):
# the suite on Heartbeat, a data set through the VIP, the in-place migration with its
# downtime measured, the suite on Pacemaker, the data set checked, the comparison with the
# change at its top; then `lab down --purge`. Everything under reports/rehearsal-<UTC>/.
.PHONY: rehearse-migration
rehearse-migration: deps venv
	$(PY) -m lab.rehearse

bench: deps venv
	$(PY) bench/lab_bench.py
	$(PY) bench/report_bench.py

# Vagrant nodes instead of the embedded lab (vagrant/README.md): needs the Debian packages
# vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients dnsmasq-base.
# VAGRANT_NETNS=havagrant: libvirtd and the nodes' networks in a namespace of their own
# (python -m vagrant.libvirt_netns), Vagrant and the suite reach the nodes through it.
VAGRANT_PROVIDER ?= libvirt
VAGRANT_NETNS ?=
VAGRANT := $(if $(VAGRANT_NETNS),ip netns exec $(VAGRANT_NETNS) )vagrant

vagrant-box: deps venv
	$(PY) -m vagrant.box
	vagrant box add --force --name ha-debian12 vagrant/ha-debian12.box

vagrant-up: venv
	$(if $(VAGRANT_NETNS),$(PY) -m vagrant.libvirt_netns up --netns $(VAGRANT_NETNS))
	$(if $(filter libvirt,$(VAGRANT_PROVIDER)),$(PY) -m vagrant.cable up)
	cd vagrant && $(VAGRANT) up --provider $(VAGRANT_PROVIDER)
	cd vagrant && $(VAGRANT) ssh-config > .vagrant/ssh-config
	$(PY) -m vagrant.inventory --out vagrant/inventory.yaml --ssh-config vagrant/.vagrant/ssh-config \
	  --provider $(VAGRANT_PROVIDER) $(if $(VAGRANT_NETNS),--netns $(VAGRANT_NETNS))

vagrant-acceptance: vagrant-up
	$(PYTEST) suites/ --inventory vagrant/inventory.yaml -p no:cacheprovider

vagrant-down:
	cd vagrant && $(VAGRANT) destroy -f
	$(PY) -m vagrant.cable down
	$(if $(VAGRANT_NETNS),$(PY) -m vagrant.libvirt_netns down --netns $(VAGRANT_NETNS))

clean:
	rm -rf $(VENV)
