"""TLCP (GB/T 38636-2020): national-crypto transport with SM2 double certificates, SM4, SM3.

    from hpf.tlcp import Credentials, TLCPContext
    server = TLCPContext(server_side=True, credentials=Credentials.load(...))
    conn = server.wrap_socket(accepted_socket)          # handshake, then recv/sendall
    client = TLCPContext(server_side=False, trust_anchors=x509.load_pem_chain(ca_pem))
    conn = client.wrap_socket(socket.create_connection(addr), server_hostname="bank.example")

See docs/tlcp.md for the protocol choices, configuration and interoperability checks.
"""

from hpf.tlcp.connection import TLCPSocket
from hpf.tlcp.constants import (
    DEFAULT_SUITES,
    ECC_SM4_CBC_SM3,
    ECC_SM4_GCM_SM3,
    ECDHE_SM4_CBC_SM3,
    ECDHE_SM4_GCM_SM3,
    SUITES,
    AlertDescription,
    CipherSuite,
    suite_by_name,
)
from hpf.tlcp.context import Credentials, Session, SessionCache, TLCPContext
from hpf.tlcp.errors import AlertReceived, ConnectionClosed, TLCPError

__all__ = [
    "DEFAULT_SUITES",
    "ECC_SM4_CBC_SM3",
    "ECC_SM4_GCM_SM3",
    "ECDHE_SM4_CBC_SM3",
    "ECDHE_SM4_GCM_SM3",
    "SUITES",
    "AlertDescription",
    "AlertReceived",
    "CipherSuite",
    "ConnectionClosed",
    "Credentials",
    "Session",
    "SessionCache",
    "TLCPContext",
    "TLCPError",
    "TLCPSocket",
    "suite_by_name",
]
