"""hpf_adapters: integration adapters (databases now; bank, exchange, crypto later).

Installed from the top-level ``adapters/`` folder under the import name ``hpf_adapters``.
Adapters implement ports that the application defines; the application never imports a
specific adapter module by database or vendor name, it asks the registry.
"""
