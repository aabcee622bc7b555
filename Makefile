# The two commands in the README: `make lab` and `make test`. Everything else is a building block.
SHELL := /bin/bash
.PHONY: lab lab-down test bootstrap docker emulator build galaxy-import ee matrix sanity lint benchmarks

bootstrap:           ## Debian packages the lab and tests use, .venv with the pinned toolchain, .collections link
	@scripts/ensure-packages.sh
	@scripts/bootstrap.sh

docker:              ## a Docker engine that answers (installs docker.io / starts dockerd when needed)
	@scripts/ensure-docker.sh

emulator: docker     ## the WCS emulator images mediaops/wcs-emulator:{test,next,broken}
	@tests/emulator/build.sh

lab: bootstrap       ## deploy the lab (scripts/lab.sh up: engine, emulator, veth router, mediaops.wcs.site)
	@scripts/lab.sh up

lab-down: bootstrap  ## remove the lab (containers, network, veth, router netns)
	@scripts/lab.sh down

test:                ## the whole suite (scripts/test.sh installs what it needs; `scripts/test.sh unit lint` for some stages)
	@scripts/test.sh

ee: build           ## the execution environment's build context in build/ee (examples/ee/execution-environment.yml)
	@source scripts/venv.sh && ansible-builder create -f examples/ee/execution-environment.yml --context build/ee

matrix:              ## the support matrix only (tox.ini: ansible-core x Python); WCS_MATRIX_CELLS="core221-py313" for some cells
	@scripts/test.sh matrix

sanity: bootstrap    ## ansible-test sanity on ansible-core 2.16 and 2.21 (scripts/sanity.sh)
	@scripts/test.sh sanity

lint: bootstrap      ## ansible-lint --profile production, as a fresh clone runs it (bootstrap links the collection into .collections/)
	@scripts/test.sh lint

build: bootstrap     ## the collection tarball in build/
	@source scripts/venv.sh && ansible-galaxy collection build --force --output-path build/

galaxy-import: bootstrap  ## the tarball, then Galaxy's importer on it, as the suite's build stage runs it
	@source scripts/venv.sh && scripts/galaxy-import.sh

benchmarks: bootstrap emulator   ## the side-by-side benchmarks (not part of the test suite)
	@source scripts/venv.sh && python benchmarks/noop_converge.py && python benchmarks/isolation.py
