"""Runtime Interface Emulator fixtures (owned by the runtime work)."""
