# The two commands the README promises: `make demo` and `make test`.
.PHONY: demo test setup build bench stop

setup:
	bash scripts/setup.sh

build: setup

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench: setup
	node dist/bench/run.js

stop:
	node bin/fluxburst.js stop
