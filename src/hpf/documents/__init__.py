"""Printed documents (证明、回单): a dependency-free PDF writer and the layouts built on it."""

from hpf.documents.pdf import A4, MM, Document, Page, text_width

__all__ = ["A4", "MM", "Document", "Page", "text_width"]
