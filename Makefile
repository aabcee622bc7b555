# The two commands in the README: `make lab` and `make test`. Everything else is a building block.
SHELL := /bin/bash
.PHONY: lab lab-down test unit integration molecule sanity lint bootstrap docker emulator build

bootstrap:
	@scripts/bootstrap.sh

docker:
	@scripts/ensure-docker.sh

emulator: docker
	@tests/emulator/build.sh

lab: bootstrap emulator
	@scripts/lab.sh up

lab-down: bootstrap
	@scripts/lab.sh down

test: bootstrap
	@scripts/test.sh

build: bootstrap
	@source scripts/venv.sh && ansible-galaxy collection build --force --output-path build/
