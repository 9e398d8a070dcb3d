"""Crypto device adapters: a GM/T 0018-2012 (SDF) 密码机/密码卡 loaded from the vendor's library.

The device keeps the master key (KEK) inside; HPF Core only asks it to wrap and unwrap data
keys and for random bytes. ``open_sdf_device(path)`` gives an ``SdfDevice``.
"""

from hpf_adapters.crypto.sdf import SdfDevice, open_sdf_device

__all__ = ["SdfDevice", "open_sdf_device"]
