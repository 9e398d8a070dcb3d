"""``python -m hpf`` = ``hpf``."""

from hpf.cli import main

main()
