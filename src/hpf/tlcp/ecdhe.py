"""SM2 key exchange (GB/T 32918.3-2016 §6.1, without the optional confirmation) for the ECDHE suites.

In TLCP the server is the initiator A and the client the responder B; the static keys are both
sides' *encryption* key pairs, the ephemeral points travel in ServerKeyExchange and
ClientKeyExchange, both Z values use the default ID, and 48 bytes are derived: the pre-master
secret.
"""

from __future__ import annotations

from hpf.crypto import _ec
from hpf.crypto.core import sm3_kdf
from hpf.crypto.providers import Point, Provider, active
from hpf.crypto.sm2 import DEFAULT_ID, SM2PrivateKey, SM2PublicKey
from hpf.tlcp.constants import AlertDescription
from hpf.tlcp.errors import TLCPError

_W = 127  # ceil(ceil(log2 n) / 2) - 1 for the 256-bit SM2 order
_MASK = (1 << _W) - 1


def _bar(point: Point) -> int:
    return (1 << _W) + (point[0] & _MASK)


def shared_secret(
    *,
    own_static: SM2PrivateKey,
    own_ephemeral: SM2PrivateKey,
    peer_static: SM2PublicKey,
    peer_ephemeral: SM2PublicKey,
    initiator: bool,
    length: int = 48,
    provider: Provider | None = None,
) -> bytes:
    engine = provider or active()
    own_r = own_ephemeral.public_key(provider=engine).point
    t = (
        int.from_bytes(own_static.to_bytes(), "big")
        + _bar(own_r) * int.from_bytes(own_ephemeral.to_bytes(), "big")
    ) % _ec.N
    x_bar = _bar(peer_ephemeral.point)
    # U = t·(P_peer + x̄·R_peer), computed as two multiplications and one addition (cofactor 1)
    point = _ec.add(
        engine.sm2.mul(t, peer_static.point), engine.sm2.mul(t * x_bar % _ec.N, peer_ephemeral.point)
    )
    if point is None:
        raise TLCPError(AlertDescription.ILLEGAL_PARAMETER, "SM2 key exchange produced the point at infinity")
    own_z = own_static.public_key(provider=engine).z_value(DEFAULT_ID, provider=engine)
    peer_z = peer_static.z_value(DEFAULT_ID, provider=engine)
    za, zb = (own_z, peer_z) if initiator else (peer_z, own_z)
    xy = point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")
    return sm3_kdf(xy + za + zb, length, provider=engine)
