"""HPF Core — 住房公积金综合业务平台."""

__version__ = "0.1.0"
