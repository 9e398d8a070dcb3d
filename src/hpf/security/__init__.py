"""Security primitives used by services (passwords now; SM2/SM3/SM4 in hpf.crypto later)."""
