"""Emulators for what moto lacks, one module per emulated service, found through a registry."""

from __future__ import annotations

from local_runtime.emulators.base import Emulator, Life
from local_runtime.emulators.registry import all_emulators, emulator_for, register

__all__ = ["Emulator", "Life", "all_emulators", "emulator_for", "register"]
